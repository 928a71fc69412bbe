// clbench sweep as a user runs it: the small example config runs, selects on the validation split
// (checked against the cells' own results), and prints the table with intervals; a killed sweep
// goes on without redoing finished cells and ends with the same table; --workers 2 and
// `mpirun -n 2` give the same table; bad configs end in one error line naming the file and key.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "framework/core/subprocess.h"
#include "framework/harness/statistics.h"
#include "tests/common/cli_test.h"

namespace clb {
namespace {

namespace fs = std::filesystem;

const std::string kQuick = test::source_dir() + "/benchmarks/sweeps/quick.toml";

class Sweep : public test::CliTest {
 protected:
  nlohmann::json json_at(const fs::path& p) { return nlohmann::json::parse(slurp(p)); }
  void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }
  // The whole sweep once per test binary run would be faster, but each test stands alone.
  test::CliResult sweep(const std::string& out, const std::string& extra = "") {
    return run("sweep " + kQuick + " --out " + out + " --threads 1" + extra);
  }
};

TEST_F(Sweep, ChoosesOnValidationAndTablesTheTestRunsWithIntervals) {
  const fs::path out = dir / "s";
  const test::CliResult r = sweep(out.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("| strategy | chosen | validation ACC % | ACC % |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("±"), std::string::npos) << r.out;  // 3 final seeds: intervals
  for (const char* f : {"table.md", "table.csv", "sweep.json"}) EXPECT_TRUE(fs::exists(out / f)) << f;
  const nlohmann::json j = json_at(out / "sweep.json");
  ASSERT_EQ(j["choices"].size(), 3u);
  // The choice is the point with the highest mean validation ACC, recomputed from the cells' files.
  for (const auto& c : j["choices"]) {
    double best = -1;
    std::string best_lambda;
    for (const auto& cell : j["selection_cells"]) {
      if (cell["strategy"] != c["strategy"]) continue;
      const auto run = json_at(out / cell["results"].get<std::string>());
      EXPECT_GT(run["config"]["validation"].get<double>(), 0);  // selection never saw the test set
      const double acc = run["runs"][0]["metrics"]["acc"];
      const std::string lambda = cell["point"].value("lambda", std::string("defaults"));
      if (acc > best) best = acc, best_lambda = lambda;
    }
    EXPECT_EQ(c["chosen"].value("lambda", std::string("defaults")), best_lambda) << c.dump();
  }
  // The table's ACC and paired difference, recomputed from the final cells' results.
  std::map<std::string, std::map<uint64_t, double>> acc;
  for (const auto& cell : j["final_cells"]) {
    const auto run = json_at(out / cell["results"].get<std::string>());
    EXPECT_EQ(run["config"]["validation"].get<double>(), 0);  // final runs score on the test sets
    acc[cell["strategy"]][cell["seed"]] = run["runs"][0]["metrics"]["acc"];
  }
  for (const auto& row : j["table"]) {
    const std::string s = row["strategy"];
    std::vector<double> a, naive;
    for (const auto& [seed, v] : acc[s]) a.push_back(v), naive.push_back(acc["naive"][seed]);
    ASSERT_EQ(a.size(), 3u);
    const Interval i = t_interval95(a);
    EXPECT_NEAR(row["acc"]["mean"].get<double>(), i.mean, 1e-12) << s;
    EXPECT_NEAR(row["acc"]["ci95_half_width"].get<double>(), i.half_width, 1e-12) << s;
    if (s != "naive") {
      EXPECT_NEAR(row["delta_acc_vs_naive"]["mean"].get<double>(), paired_difference95(a, naive).mean, 1e-12) << s;
    }
  }
  // A cell's file repeats its run: clbench run --config on it gives the same metrics, bitwise.
  const std::string cell = j["final_cells"][1]["name"];
  const fs::path again = dir / "again";
  const test::CliResult rerun = run("run --config " + (out / "cells" / (cell + ".json")).string() + " --out " + again.string());
  ASSERT_EQ(rerun.code, 0) << rerun.err;
  EXPECT_EQ(json_at(again / "results.json")["runs"][0]["acc_matrix"],
            json_at(out / "cells" / cell / "results.json")["runs"][0]["acc_matrix"]);
}

TEST_F(Sweep, AKilledSweepGoesOnWithoutRedoingFinishedCells) {
  const fs::path whole = dir / "whole", cut = dir / "cut";
  ASSERT_EQ(sweep(whole.string()).code, 0);
  // SIGTERM to itself once 3 cells ended; with 2 workers another cell is running then, and is
  // asked to stop (it keeps a checkpoint or, before its first, nothing).
  ::setenv("CLBENCH_SWEEP_STOP_AFTER", "3", 1);
  const test::CliResult stopped = sweep(cut.string(), " --workers 2");
  ::unsetenv("CLBENCH_SWEEP_STOP_AFTER");
  EXPECT_EQ(stopped.code, 128 + 15) << stopped.err << stopped.out;
  EXPECT_FALSE(fs::exists(cut / "sweep.json"));
  // The finished cells, as they are now.
  std::map<std::string, fs::file_time_type> finished;
  for (const auto& e : fs::directory_iterator(cut / "cells"))  // complete: a stopped cell writes results too
    if (fs::exists(e.path() / "manifest.json") && json_at(e.path() / "manifest.json").value("complete", false))
      finished[e.path().filename()] = fs::last_write_time(e.path() / "results.json");
  ASSERT_GE(finished.size(), 3u);
  ASSERT_LT(finished.size(), 5u);
  const test::CliResult resumed = sweep(cut.string());
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find(fmt::format("5 cells, {} finished earlier", finished.size())), std::string::npos)
      << resumed.err;
  for (const auto& [name, time] : finished)
    EXPECT_EQ(fs::last_write_time(cut / "cells" / name / "results.json"), time) << name << " was run again";
  EXPECT_EQ(slurp(cut / "table.csv"), slurp(whole / "table.csv"));
  // Run once more: everything is finished, nothing runs, the same table.
  const test::CliResult third = sweep(cut.string());
  ASSERT_EQ(third.code, 0) << third.err;
  EXPECT_NE(third.err.find("9 cells, 9 finished earlier"), std::string::npos) << third.err;
  EXPECT_EQ(slurp(cut / "table.csv"), slurp(whole / "table.csv"));
}

TEST_F(Sweep, WorkersAndMpiRanksGiveTheSerialTable) {
  const fs::path serial = dir / "serial", parallel = dir / "parallel", mpi = dir / "mpi";
  ASSERT_EQ(sweep(serial.string()).code, 0);
  const test::CliResult w = sweep(parallel.string(), " --workers 2");
  ASSERT_EQ(w.code, 0) << w.err;
  EXPECT_EQ(slurp(parallel / "table.csv"), slurp(serial / "table.csv"));
  if (!on_path("mpirun")) GTEST_SKIP() << "mpirun is not installed (openmpi-bin): the MPI sweep is not tested";
  // As root (CI), OpenMPI wants both variables; --oversubscribe: 2 ranks on a machine of any size.
  ::setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  ::setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  // Under AddressSanitizer (scripts/sanitize_and_fuzz.sh) the ranks' leak check is off: OpenMPI's
  // MPI_Init allocates in its plugins and never frees (thousands of reports, none in clbench);
  // every other check stays on. A later option wins, so appending is enough.
  const char* asan = std::getenv("ASAN_OPTIONS");
  const std::string asan_before = asan ? asan : "";
  ::setenv("ASAN_OPTIONS", (asan_before + (asan_before.empty() ? "" : ":") + "detect_leaks=0").c_str(), 1);
  const char* exe = std::getenv("CLB_CLBENCH_EXE");
  const std::string log = (dir / "mpirun.txt").string();
  const int code = run_process({"mpirun", "-n", "2", "--oversubscribe", exe ? exe : CLB_CLBENCH_EXE, "sweep", kQuick,
                                "--out", mpi.string(), "--threads", "1"},
                               {.in = "/dev/null", .out = log, .err = log});
  if (asan) ::setenv("ASAN_OPTIONS", asan_before.c_str(), 1);
  else ::unsetenv("ASAN_OPTIONS");
  ASSERT_EQ(code, 0) << slurp(log);
  EXPECT_NE(slurp(log).find("on 2 ranks"), std::string::npos) << slurp(log);  // it did run as 2 ranks
  EXPECT_EQ(slurp(mpi / "table.csv"), slurp(serial / "table.csv"));
}

TEST_F(Sweep, EveryExampleConfigChecksOut) {
  for (const auto& e : fs::recursive_directory_iterator(test::source_dir() + "/benchmarks/sweeps")) {
    if (e.path().extension() != ".toml") continue;
    const test::CliResult r = run("sweep " + e.path().string() + " --out " + (dir / "dry").string() + " --dry-run");
    EXPECT_EQ(r.code, 0) << e.path() << r.err;
    EXPECT_NE(r.out.find("every cell's settings check out"), std::string::npos) << r.out;
  }
  EXPECT_FALSE(fs::exists(dir / "dry"));  // a dry run writes nothing
}

TEST_F(Sweep, BadConfigsEndInOneLineNamingTheFileAndKey) {
  const std::string cfg = (dir / "bad.toml").string(), out = " --out " + (dir / "o").string();
  auto expect = [&](const std::string& text, const std::string& needle) {
    write(cfg, text);
    expect_one_line_error("sweep " + cfg + out, needle);
  };
  const std::string run = "[run]\nscenario = \"synthetic\"\narch = \"8-8-2\"\nstrategy = [\"naive\", \"ewc\"]\n";
  expect("[run\n", cfg + ":1:");                                             // TOML syntax, with line
  expect(run + "[grids]\n", "unknown section [grids]");
  expect(run + "[grid.ewc]\nlamda = [1, 2]\n", "lamda");                     // not a run flag
  expect(run + "[grid.ewc]\nlambda = [-1]\n", "--lambda -1");                // run's own check of the value
  expect(run + "[grid.si]\nlambda = [1]\n", "[grid.si]: si is not in run.strategy");
  expect(run + "seed = 3\n", "run.seed: the sweep sets seed itself");
  expect(run + "[protocol]\nvalidation = 0.9\n", "protocol.validation must be a share in (0, 0.5]");
  expect(run + "[protocol]\nfinal-seeds = [1, 1]\n", "lists seed 1 twice");
  expect(run + "[grid.ewc]\nlambda = 5\n", "grid.ewc.lambda must be a non-empty list");
  expect("[run]\nscenario = \"synthetic\"\n", "run.strategy lists no strategy");
  expect_one_line_error("sweep " + (dir / "missing.toml").string() + out, "missing.toml");
}

// A grid's value replaces [run]'s own for the cell (run refuses a flag given twice); each cell's
// file says what it ran.
TEST_F(Sweep, GridValuesReplaceTheBaseRunsOwn) {
  const std::string cfg = (dir / "lr.toml").string();
  write(cfg, "[run]\nscenario = \"synthetic\"\narch = \"4-8-2\"\ntasks = 2\ntrain-per-task = 60\n"
             "test-per-task = 20\nlr = 0.05\nstrategy = [\"naive\", \"ewc\"]\n"
             "[protocol]\nselection-seeds = [7]\nfinal-seeds = [0, 1]\n"
             "[grid]\nlr = [0.001, 0.002]\n[grid.ewc]\nlambda = [3]\n");
  const test::CliResult r = run("sweep " + cfg + " --out " + (dir / "o").string() + " --threads 1");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto cell = json_at(dir / "o" / "cells" / "select-ewc-lr=0.002-lambda=3-seed7.json");
  EXPECT_FLOAT_EQ(cell["lr"].get<float>(), 0.002f);
  EXPECT_EQ(cell["lambda"]["ewc"].get<float>(), 3.0f);
  EXPECT_EQ(cell["seed"].get<uint64_t>(), 7u);
  EXPECT_NEAR(cell["validation"].get<double>(), 0.1, 1e-12);  // the protocol's default share
}

// A cell that fails when it runs (here: its data set is not there, which only loading finds) stops
// the sweep with one error naming the cell and its log; it does not hang on the cells never started.
TEST_F(Sweep, AFailingCellStopsTheSweepNamingItsLog) {
  const std::string cfg = (dir / "fails.toml").string();
  write(cfg, "[run]\nscenario = \"permuted\"\ndataset = \"" + (dir / "no-such-data").string() +
                 "\"\nstrategy = [\"naive\", \"ewc\"]\n[grid.ewc]\nlambda = [1, 2, 3]\n");
  // One worker: naive's cell fails first (with two, which of the two failing cells ends first is a race).
  expect_one_line_error("sweep " + cfg + " --out " + (dir / "o").string() + " --workers 1",
                        "failed (exit status 1)");
  EXPECT_NE(slurp(dir / "stderr.txt").find("select-naive-seed1000.log"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "o" / "sweep.json"));
}

}  // namespace
}  // namespace clb
