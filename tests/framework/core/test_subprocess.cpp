// Programs started with an argument vector: arguments reach the program as they are (no shell
// reads them), the exit status comes back, stderr goes to the file asked for, and a program that
// is not there is -1, not a crash.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "framework/core/subprocess.h"
#include "tests/common/scratch_dir.h"

namespace clb {
namespace {

TEST(Subprocess, ArgumentsAreNeverReadByAShell) {
  // With a shell, "a; exit 7" would end the command early; here test(1) compares the texts.
  EXPECT_EQ(run_process({"test", "a; exit 7", "=", "a; exit 7"}), 0);
  EXPECT_EQ(run_process({"test", "$(echo x)", "=", "x"}), 1);
  EXPECT_EQ(run_process({"false"}), 1);
}

TEST(Subprocess, StderrGoesToTheFileAskedFor) {
  test::ScratchDir dir("subprocess");
  const std::string err = (dir.path() / "err.txt").string();
  Redirects io;
  io.err = err;
  EXPECT_NE(run_process({"ls", (dir.path() / "no such file").string()}, io), 0);
  std::ifstream f(err);
  std::stringstream text;
  text << f.rdbuf();
  EXPECT_NE(text.str().find("no such file"), std::string::npos) << text.str();
}

TEST(Subprocess, MissingProgramsAreReportedNotRun) {
  EXPECT_EQ(run_process({"clbench-no-such-program"}), -1);
  EXPECT_EQ(run_process({}), -1);
  EXPECT_TRUE(on_path("ls"));
  EXPECT_FALSE(on_path("clbench-no-such-program"));
  EXPECT_FALSE(on_path("/bin/ls"));  // a name, not a path
}

}  // namespace
}  // namespace clb
