// Programs started with an argument vector: arguments reach the program as they are (no shell
// reads them), the exit status comes back, stderr goes to the file asked for, and a program that
// is not there is -1, not a crash.
#include <gtest/gtest.h>

#include <signal.h>

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

// clbench sweep's cells: started without waiting, polled, and a signal's end reported as 128 + N.
TEST(Subprocess, StartedChildrenArePolledAndTheirSignalsReported) {
  const int pid = start_process({"sleep", "5"});
  ASSERT_GT(pid, 0);
  EXPECT_FALSE(poll_process(pid).has_value());  // still sleeping
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_process(pid), 128 + SIGTERM);
  const int quick = start_process({"sh", "-c", "exit 3"});
  ASSERT_GT(quick, 0);
  EXPECT_EQ(wait_process(quick), 3);
  EXPECT_EQ(start_process({"clbench-no-such-program"}), -1);
}

// Appending keeps what a log held: a resumed cell adds to its log.
TEST(Subprocess, AppendKeepsTheFileAndOneFileTakesBothStreams) {
  test::ScratchDir dir("subprocess-append");
  const std::string log = (dir.path() / "log").string();
  const Redirects io{.in = "/dev/null", .out = log, .err = log, .append = true};
  EXPECT_EQ(wait_process(start_process({"sh", "-c", "echo one; echo two >&2"}, io)), 0);
  EXPECT_EQ(wait_process(start_process({"sh", "-c", "echo three"}, io)), 0);
  std::stringstream text;
  text << std::ifstream(log).rdbuf();
  EXPECT_EQ(text.str(), "one\ntwo\nthree\n");
}

}  // namespace
}  // namespace clb
