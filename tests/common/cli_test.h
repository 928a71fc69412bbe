#pragma once
// The clbench binary run as a user runs it: a fixture with a scratch directory, run(args) with
// stdout/stderr captured, and the check that bad input ends in exactly one error line.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "framework/core/subprocess.h"
#include "tests/common/scratch_dir.h"

namespace clb::test {

// The source tree: CLB_SOURCE_DIR in the environment wins over the compiled-in path, for the device
// bundle, which runs the tests in a copy of the tree on another machine (scripts/device_check.sh).
inline std::string source_dir() {
  const char* env = std::getenv("CLB_SOURCE_DIR");
  return env ? env : CLB_SOURCE_DIR;
}

struct CliResult {
  int code;
  std::string out, err;
};

class CliTest : public ::testing::Test {
 protected:
  ScratchDir scratch_{"cli"};
  const std::filesystem::path dir = scratch_.path();

  // args: space-separated, as typed (no quoting: no shell reads them).
  CliResult run(const std::string& args) {
    std::vector<std::string> argv;
    std::stringstream words(args);
    for (std::string w; words >> w;) argv.push_back(w);
    return run_argv(argv);
  }
  // The arguments as they are (spaces, quotes and all).
  CliResult run_argv(const std::vector<std::string>& args) {
    const std::string out = (dir / "stdout.txt").string(), err = (dir / "stderr.txt").string();
    // CLB_CLBENCH_EXE in the environment wins: the device bundle runs these tests away from the
    // build tree the compiled-in path points to.
    const char* env = std::getenv("CLB_CLBENCH_EXE");
    std::vector<std::string> argv{env ? env : CLB_CLBENCH_EXE};
    argv.insert(argv.end(), args.begin(), args.end());
    const int code = run_process(argv, {.in = "/dev/null", .out = out, .err = err});
    return {code, slurp(out), slurp(err)};
  }
  static std::string slurp(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  // Expects failure with exactly one error line on stderr ("clbench: error: ..."), containing
  // `needle`; progress lines before it are fine.
  void expect_one_line_error(const std::string& args, const std::string& needle) {
    const CliResult r = run(args);
    EXPECT_NE(r.code, 0) << args;
    std::vector<std::string> errors;
    std::stringstream ss(r.err);
    for (std::string line; std::getline(ss, line);)
      if (line.rfind("clbench: error: ", 0) == 0) errors.push_back(line);
    ASSERT_EQ(errors.size(), 1u) << args << "\nstderr: " << r.err;
    EXPECT_NE(errors[0].find(needle), std::string::npos) << args << "\nstderr: " << r.err;
    EXPECT_EQ(r.err.find("clbench: error: "), r.err.size() - errors[0].size() - 1) << "the error is the last line";
  }
};

}  // namespace clb::test
