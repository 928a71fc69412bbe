// Runs that survive (README, "Runs that survive"): a run stopped by SIGTERM, SIGINT or SIGKILL after
// some tasks keeps what finished and a checkpoint in --out; `clbench run --resume` finishes it with
// the results.json an uninterrupted run writes, timing aside. The stop comes from the
// CLBENCH_RAISE_AFTER_TASK hook (the process signals itself after the N-th task's checkpoint), so
// the tests do not race the run. Outputs and settings that cannot work fail before any training.
#include <cstdlib>
#include <regex>

#include <nlohmann/json.hpp>

#include "tests/common/cli_test.h"

namespace clb::test {
namespace {

namespace fs = std::filesystem;

// 3 strategies x 5 tasks on a small generated stream: each run a fraction of a second.
const std::string kRun =
    "run --scenario synthetic --tasks 5 --train-per-task 400 --test-per-task 200 --lca-batches 2 --threads 2 ";

constexpr int kKilled = -1;  // run_process: the child ended by a signal

class CliResume : public CliTest {
 protected:
  // The command with CLBENCH_RAISE_AFTER_TASK set to `raise` for it alone.
  CliResult run_raising(const std::string& args, const std::string& raise) {
    ::setenv("CLBENCH_RAISE_AFTER_TASK", raise.c_str(), 1);
    CliResult r = run(args);
    ::unsetenv("CLBENCH_RAISE_AFTER_TASK");
    return r;
  }
  static nlohmann::json json_of(const fs::path& p) { return nlohmann::json::parse(slurp(p)); }
  // results.json without what depends on the clock (a resumed run keeps its start time; the
  // uninterrupted one it is compared with started at another).
  static nlohmann::json untimed(nlohmann::json j) {
    j["config"].erase("wall_seconds");
    j["config"].erase("peak_rss_mib");
    j["config"]["provenance"].erase("started");
    for (auto& run : j["runs"]) run.erase("seconds"), run.erase("throughput");
    return j;
  }
  // results.csv without the throughput columns (9-11) and the start time.
  static std::string untimed_csv(const std::string& csv) {
    std::stringstream in(csv);
    std::string out;
    for (std::string line; std::getline(in, line);) {
      std::stringstream cells(line);
      int k = 0;
      for (std::string cell; std::getline(cells, cell, ','); ++k)
        if (k < 8 || k > 10) out += cell + ",";
      out += "\n";
    }
    return std::regex_replace(out, std::regex("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ"), "START");
  }
  // Nothing but the run's files: no temp file a writer left.
  void expect_only(const fs::path& d, std::vector<std::string> names) {
    std::vector<std::string> found;
    for (const auto& e : fs::directory_iterator(d)) found.push_back(e.path().filename().string());
    std::sort(found.begin(), found.end());
    std::sort(names.begin(), names.end());
    EXPECT_EQ(found, names);
  }
  // Stops `args` after `raise`, checks what it left, resumes it (the same hook each time, so a
  // resumed run may be stopped again) and compares with the uninterrupted run.
  void stop_and_resume(const std::string& args, const std::string& raise, int expect_code, size_t runs_kept) {
    const CliResult whole = run(args + "--out " + (dir / "whole").string());
    ASSERT_EQ(whole.code, 0) << whole.err;
    const fs::path cut = dir / "cut";
    const CliResult stopped = run_raising(args + "--out " + cut.string(), raise);
    EXPECT_EQ(stopped.code, expect_code) << stopped.err;
    const bool killed = expect_code == kKilled;  // no handler: results only of runs finished before
    if (killed && runs_kept == 0)
      expect_only(cut, {"checkpoint.safetensors", "manifest.json"});
    else
      expect_only(cut, {"checkpoint.safetensors", "manifest.json", "results.csv", "results.json"});
    if (runs_kept > 0 || !killed) {
      EXPECT_EQ(json_of(cut / "results.json")["runs"].size(), runs_kept);
    }
    const nlohmann::json manifest = json_of(cut / "manifest.json");
    EXPECT_FALSE(manifest["complete"].get<bool>());
    if (!killed) {
      EXPECT_NE(manifest["status"].get<std::string>().find("interrupted by"), std::string::npos) << manifest.dump();
      EXPECT_NE(stopped.err.find("clbench run --resume " + cut.string()), std::string::npos) << stopped.err;
    }
    CliResult resumed;
    for (int i = 0; i < 20; ++i) {
      resumed = run_raising("run --resume " + cut.string() + " --threads 2", raise);
      if (resumed.code == 0) break;
      ASSERT_EQ(resumed.code, expect_code) << resumed.err;
    }
    ASSERT_EQ(resumed.code, 0) << resumed.err;
    EXPECT_EQ(untimed(json_of(cut / "results.json")), untimed(json_of(dir / "whole" / "results.json")));
    expect_only(cut, {"manifest.json", "results.csv", "results.json"});
    EXPECT_TRUE(json_of(cut / "manifest.json")["complete"].get<bool>());
    EXPECT_EQ(untimed_csv(slurp(cut / "results.csv")), untimed_csv(slurp(dir / "whole" / "results.csv")));
  }
};

TEST_F(CliResume, SigtermAfterTask2Of5) {
  // Task 2 of the second strategy (the 7th task end): the first run is kept.
  stop_and_resume(kRun + "--strategy ewc,si,er ", "7:TERM", 128 + 15, 1);
}

TEST_F(CliResume, SigintWithDetectedBoundaries) {
  stop_and_resume(kRun + "--strategy ewc,agem --task-boundaries detect --optimizer momentum --lr 0.01 ", "2:INT",
                  128 + 2, 0);
}

TEST_F(CliResume, SigkillLeavesTheLastCheckpoint) {
  stop_and_resume(kRun + "--strategy online-ewc,ewc+er ", "3:KILL", kKilled, 0);
}

TEST_F(CliResume, ReusedOutAndFinishedRunsAreRefused) {
  ASSERT_EQ(run(kRun + "--strategy naive --out " + (dir / "a").string()).code, 0);
  expect_one_line_error(kRun + "--strategy naive --out " + (dir / "a").string(), "holds results.json of an earlier complete run");
  expect_one_line_error("run --resume " + (dir / "a").string(), "that run is complete");
  expect_one_line_error("run --resume " + (dir / "nothing").string(), "no checkpoint.safetensors there");
  expect_one_line_error("run --resume " + (dir / "a").string() + " --lr 0.5", "--lr cannot change it");
  // A manifest.json clbench did not write stays as it was.
  fs::create_directories(dir / "b");
  std::ofstream(dir / "b" / "manifest.json") << R"({"mine": 1})";
  expect_one_line_error(kRun + "--strategy naive --out " + (dir / "b").string(), "not a manifest clbench wrote");
  EXPECT_EQ(slurp(dir / "b" / "manifest.json"), R"({"mine": 1})");
}

// Found before the first training step: no task of any strategy is reported done.
TEST_F(CliResume, OutputsAndSettingsAreCheckedBeforeTraining) {
  auto before_training = [&](const std::string& args, const std::string& needle) {
    expect_one_line_error(args, needle);
    EXPECT_EQ(slurp(dir / "stderr.txt").find("task 1/"), std::string::npos) << slurp(dir / "stderr.txt");
  };
  fs::create_directories(dir / "model_dir");
  before_training(kRun + "--strategy naive --save " + (dir / "model_dir").string(), "is a directory");
  before_training(kRun + "--strategy naive,er --memory-bytes 10", "--memory-bytes 10: holds no sample");
  std::ofstream(dir / "file_not_dir") << "x";
  before_training(kRun + "--strategy naive --out " + (dir / "file_not_dir").string(), "--out");
}

TEST_F(CliResume, DivergenceIsAnErrorNotAResult) {
  // Before, a loss of 1e7 that stayed finite went into the tables as a result.
  expect_one_line_error(kRun + "--strategy naive --optimizer sgd --lr 50", "diverged in task 1");
  expect_one_line_error(kRun + "--strategy naive --optimizer momentum --momentum 5", "--momentum 5: the momentum coefficient must lie in [0, 1)");
}

}  // namespace
}  // namespace clb::test
