// clbench report on what clbench run and clbench sweep write, as a user runs it: a run directory
// and sweep directories become pages whose every linked PNG exists and is a PNG, with the figures
// the page promises; bad input ends in one error line naming the file.
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "framework/core/atomic_file.h"
#include "framework/core/subprocess.h"
#include "tests/common/cli_test.h"

namespace clb {
namespace {

namespace fs = std::filesystem;

// Synthetic data, 3 tasks: a run takes well under a second.
const std::string kData =
    " --scenario synthetic --arch 20-16-4 --tasks 3 --train-per-task 300 --test-per-task 100 --batch 32 --epochs 2"
    " --threads 1";

// 2 strategies, a 2-point grid, 1 selection seed, 2 final seeds: 7 cells of the run above.
const char* kTinySweep = R"([run]
scenario = "synthetic"
arch = "20-16-4"
tasks = 3
train-per-task = 300
test-per-task = 100
batch = 32
epochs = 2
strategy = ["naive", "ewc"]

[protocol]
validation = 0.2
selection-seeds = [1000]
final-seeds = [0, 1]

[grid.ewc]
lambda = [10, 1000]
)";

class ReportPages : public test::CliTest {
 protected:
  void SetUp() override {
    if (!on_path("gnuplot")) GTEST_SKIP() << "gnuplot is not on PATH (scripts/install_deps.sh installs it)";
  }
  fs::path make_run(const std::string& name, const std::string& strategies = "naive,ewc") {
    const fs::path out = dir / name;
    const test::CliResult r = run("run" + kData + " --strategy " + strategies + " --seeds 2 --out " + out.string());
    EXPECT_EQ(r.code, 0) << r.err;
    return out;
  }
  fs::path make_sweep(const std::string& name) {
    const fs::path toml = dir / (name + ".toml"), out = dir / name;
    std::ofstream(toml) << kTinySweep;
    const test::CliResult r = run("sweep " + toml.string() + " --out " + out.string() + " --workers 1 --threads 1");
    EXPECT_EQ(r.code, 0) << r.err;
    return out;
  }
  // The PNGs the page links, each checked to exist beside the page and to start with PNG's magic.
  std::set<std::string> linked_pngs(const fs::path& page) {
    const std::string md = read_file(page.string());
    std::set<std::string> files;
    const std::regex link(R"(!\[[^\]]*\]\(([^)]+)\))");
    for (auto it = std::sregex_iterator(md.begin(), md.end(), link); it != std::sregex_iterator(); ++it) {
      const std::string rel = (*it)[1];
      files.insert(fs::path(rel).filename().string());
      const fs::path png = page.parent_path() / rel;
      EXPECT_TRUE(fs::exists(png)) << rel;
      if (fs::exists(png)) {
        EXPECT_EQ(read_file(png.string()).substr(0, 8), "\x89PNG\r\n\x1a\n") << rel;
      }
    }
    return files;
  }
};

TEST_F(ReportPages, ARunDirectoryGetsItsPageWithTheLossAccuracyHeatmapAndLcaFigures) {
  const fs::path run_dir = make_run("run");
  const test::CliResult r = run("report " + run_dir.string());
  ASSERT_EQ(r.code, 0) << r.err;
  const fs::path page = run_dir / "report.md";  // the default --out
  ASSERT_TRUE(fs::exists(page));
  const std::string md = read_file(page.string());
  EXPECT_NE(md.find("# Run: " + run_dir.string()), std::string::npos);
  EXPECT_NE(md.find("| scenario | synthetic"), std::string::npos) << md;
  EXPECT_NE(md.find("| model | MLP 20-16-4"), std::string::npos) << md;
  EXPECT_NE(md.find("| strategy | ACC % |"), std::string::npos) << "the summary table";
  const std::set<std::string> pngs = linked_pngs(page);
  for (const std::string f : {"report_train_loss.png", "report_first_task_acc.png", "report_acc_by_task_naive.png", "report_acc_by_task_ewc.png",
                              "report_acc_matrix_naive.png", "report_acc_matrix_ewc.png",
                              "report_test_loss_by_task_ewc.png", "report_lca.png"})
    EXPECT_TRUE(pngs.count(f)) << f << " not on the page:\n" << md;
  EXPECT_NE(md.find("Training loss: each point is the mean minibatch cross-entropy"), std::string::npos);
  EXPECT_NE(md.find("LCA curves:"), std::string::npos);
  for (const auto& e : fs::directory_iterator(run_dir / "plots"))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << "left behind: " << e.path();
}

// A results.json from before clbench kept losses: the page leaves those figures out and says so.
TEST_F(ReportPages, ARunWithoutLossesLeavesThoseFiguresOutWithANote) {
  const fs::path run_dir = make_run("old", "naive");
  const std::string results = (run_dir / "results.json").string();
  nlohmann::json j = nlohmann::json::parse(read_file(results));
  for (auto& r : j["runs"]) r.erase("train_loss"), r.erase("test_loss"), r.erase("init_test_loss");
  write_file_atomic(results, j.dump());
  const fs::path page = dir / "old.md";
  ASSERT_EQ(run("report " + run_dir.string() + " --out " + page.string()).code, 0);
  const std::string md = read_file(page.string());
  const std::set<std::string> pngs = linked_pngs(page);
  EXPECT_FALSE(pngs.count("old_train_loss.png"));
  EXPECT_TRUE(pngs.count("old_acc_matrix_naive.png"));
  EXPECT_NE(md.find("The training-loss figure is left out"), std::string::npos) << md;
}

// A strategy name from results.json lands in titles, legends and file names: it stays text there.
TEST_F(ReportPages, ACommandInAStrategyNameNeverRuns) {
  const fs::path run_dir = make_run("inj", "naive");
  const fs::path marker = dir / "ran";
  const std::string results = (run_dir / "results.json").string();
  nlohmann::json j = nlohmann::json::parse(read_file(results));
  for (auto& r : j["runs"]) r["strategy"] = "x'; print system('touch " + marker.string() + "'); #/..";
  write_file_atomic(results, j.dump());
  const test::CliResult r = run("report " + run_dir.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(fs::exists(marker)) << "a command in a strategy name ran";
  EXPECT_FALSE(linked_pngs(run_dir / "report.md").empty());
  for (const auto& e : fs::directory_iterator(run_dir / "plots"))
    EXPECT_EQ(e.path().parent_path(), run_dir / "plots") << "a PNG outside plots/";
}

TEST_F(ReportPages, SweepDirectoriesGetTheTradeOffIntervalBarsAndFinalLossFigures) {
  const fs::path sweep = make_sweep("sweep");
  ASSERT_EQ(run("report " + sweep.string()).code, 0);
  const fs::path page = sweep / "report.md";
  const std::string md = read_file(page.string());
  EXPECT_NE(md.find("| naive | defaults |"), std::string::npos) << md;
  EXPECT_NE(md.find("- ewc: highest mean validation ACC"), std::string::npos) << "the choice and why";
  // A grid of two values: whichever is chosen lies at an end of it, and the page says so.
  EXPECT_TRUE(md.find("lambda=10 is the low end of its grid") != std::string::npos ||
              md.find("lambda=1000 is the high end of its grid") != std::string::npos)
      << md;
  std::set<std::string> pngs = linked_pngs(page);
  for (const std::string f : {"report_sweep1_tradeoff_lambda.png", "report_sweep1_acc_bars.png",
                              "report_sweep1_final_train_loss.png", "report_sweep1_final_acc_matrix_ewc.png"})
    EXPECT_TRUE(pngs.count(f)) << f << " not on the page:\n" << md;
  const nlohmann::json j = nlohmann::json::parse(read_file((sweep / "report.json").string()));
  EXPECT_EQ(j["format"], "clbench-report-sweeps");
  ASSERT_EQ(j["sweeps"].size(), 1u);
  EXPECT_EQ(j["sweeps"][0]["table"], nlohmann::json::parse(read_file((sweep / "sweep.json").string()))["table"]);

  // A copy without its cells beside it: one page, two sections; the copy's final figures are
  // missing with a note, the rest is there.
  const fs::path bare = dir / "bare";
  fs::create_directories(bare);
  fs::copy_file(sweep / "sweep.json", bare / "sweep.json");
  const fs::path both = dir / "both.md";
  const test::CliResult r = run("report " + sweep.string() + " " + bare.string() + " --out " + both.string());
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string md2 = read_file(both.string());
  EXPECT_NE(md2.find("## " + (dir / "sweep.toml").string() + " (synthetic)\n"), std::string::npos) << md2;
  EXPECT_NE(md2.find("## " + (dir / "sweep.toml").string() + "\n"), std::string::npos) << "the copy has no cells";
  size_t sections = 0;
  for (size_t at = md2.find("\nSource: `"); at != std::string::npos; at = md2.find("\nSource: `", at + 1)) ++sections;
  EXPECT_EQ(sections, 2u) << md2;
  // The summary before them: a row per strategy, a column per sweep (both named after sweep.toml).
  EXPECT_NE(md2.find("## Summary\n"), std::string::npos) << md2;
  EXPECT_NE(md2.find("| strategy | sweep | sweep |\n"), std::string::npos) << md2;
  EXPECT_NE(md2.find("| ewc | "), std::string::npos) << md2;
  pngs = linked_pngs(both);
  EXPECT_TRUE(pngs.count("both_sweep1_final_train_loss.png"));
  EXPECT_TRUE(pngs.count("both_sweep2_tradeoff_lambda.png"));
  EXPECT_FALSE(pngs.count("both_sweep2_final_train_loss.png"));
  EXPECT_NE(md2.find("4 of the 4 final cells' results are not there"), std::string::npos) << md2;
  EXPECT_EQ(nlohmann::json::parse(read_file((dir / "both.json").string()))["sweeps"].size(), 2u);

  // Where and when the final cells ran, from their provenance; --strategies keeps the figures of
  // the strategies named, the tables and bars keep all.
  EXPECT_NE(md.find("| where and when | commit "), std::string::npos) << md;
  EXPECT_NE(md.find("final cells started 20"), std::string::npos) << md;
  const fs::path some = dir / "some.md";
  ASSERT_EQ(run("report " + sweep.string() + " --strategies ewc --out " + some.string()).code, 0);
  const std::string md3 = read_file(some.string());
  pngs = linked_pngs(some);
  EXPECT_TRUE(pngs.count("some_sweep1_final_acc_matrix_ewc.png"));
  EXPECT_FALSE(pngs.count("some_sweep1_final_acc_matrix_naive.png"));
  EXPECT_NE(md3.find("| naive | defaults |"), std::string::npos) << "the table keeps every strategy";
  expect_one_line_error("report " + sweep.string() + " --strategies si --out " + some.string(),
                        "--strategies si: " + sweep.string() + " holds no run of si; its runs are of naive, ewc");
}

// Bad input needs no gnuplot: these run everywhere.
class ReportPagesBadInput : public test::CliTest {};

TEST_F(ReportPagesBadInput, EndInOneLineNamingTheFile) {
  fs::create_directories(dir / "empty");
  expect_one_line_error("report " + (dir / "empty").string(), "holds none of manifest.json");
  // A run whose results.json was cut short.
  const fs::path run_dir = dir / "run";
  ASSERT_EQ(run("run" + kData + " --strategy naive --out " + run_dir.string()).code, 0);
  const std::string results = (run_dir / "results.json").string();
  const std::string whole = read_file(results);
  write_file_atomic(results, whole.substr(0, whole.size() / 2));
  expect_one_line_error("report " + run_dir.string() + " --no-plots", results + ": not valid JSON");
  // A record that does not fit its config.
  nlohmann::json j = nlohmann::json::parse(whole);
  j["config"]["tasks"] = 5;
  write_file_atomic(results, j.dump());
  expect_one_line_error("report " + run_dir.string() + " --no-plots", results + ": the record of naive");
  // Several sources are sweeps only; a suite needs --out.
  fs::create_directories(dir / "sweep");
  write_file_atomic((dir / "sweep" / "sweep.json").string(), R"({"format": "clbench-sweep"})");
  expect_one_line_error("report " + (dir / "sweep").string() + " " + run_dir.string(), run_dir.string() + ": not a sweep");
  expect_one_line_error("report " + (dir / "sweep").string() + " --no-plots", "sweep.json: a field is missing");
  EXPECT_FALSE(fs::exists(dir / "sweep" / "report.md")) << "no page from bad input";
  fs::create_directories(dir / "suite");
  write_file_atomic((dir / "suite" / "meta.json").string(), "{}");
  expect_one_line_error("report " + (dir / "suite").string(), "--out: name the markdown page");
}

}  // namespace
}  // namespace clb
