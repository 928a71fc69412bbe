// How `clbench run` makes its tasks, end to end: split with --classes-per-task and --class-order
// on Fashion-MNIST, a CSV whose column names each row's task, and what results.json keeps of
// every run's losses (the curves `clbench report` draws).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/common/cli_test.h"

namespace fs = std::filesystem;

namespace clb {
namespace {

using test::CliResult;

class CliScenarios : public test::CliTest {
 protected:
  nlohmann::json results(const std::string& out) { return nlohmann::json::parse(slurp(fs::path(out) / "results.json")); }
};

constexpr const char* kFashion = "/usr/share/datasets/fashion-mnist";

// 10 classes, 5 a task: 2 tasks; the seeded order is a permutation of the classes, recorded, the
// same for the same seed; fixed is label order.
TEST_F(CliScenarios, ClassesPerTaskFiveOnFashionMnistGivesTwoTasks) {
  if (!fs::is_directory(kFashion)) GTEST_SKIP() << kFashion << " not installed (dataset-fashion-mnist)";
  const std::string base = "run --scenario split --classes-per-task 5 --arch 784-16-10 --train-per-task 300 "
                           "--test-per-task 100 --strategy naive --seeds 2 --lca-batches 2 --out ";
  CliResult r = run(base + (dir / "seeded").string());
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = results((dir / "seeded").string());
  EXPECT_EQ(j["config"]["tasks"], 2);
  EXPECT_EQ(j["config"]["class_order"], "seeded");
  ASSERT_EQ(j["runs"].size(), 2u);
  for (const auto& run : j["runs"]) {
    EXPECT_EQ(run["acc_matrix"].size(), 2u);
    std::vector<int> order = run["class_order"].get<std::vector<int>>(), sorted = order;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  }
  EXPECT_NE(j["runs"][0]["class_order"], j["runs"][1]["class_order"]);  // seeds 0 and 1 draw their own
  r = run(base + (dir / "fixed").string() + " --class-order fixed");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(results((dir / "fixed").string())["runs"][0]["class_order"],
            (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  // The recorded config reruns the same tasks.
  r = run("run --config " + (dir / "seeded" / "results.json").string() + " --out " + (dir / "again").string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(results((dir / "again").string())["runs"][1]["class_order"], j["runs"][1]["class_order"]);
  const std::string split = "run --scenario split --arch 784-16-10 --train-per-task 300 --out " + (dir / "x").string();
  expect_one_line_error(split + " --classes-per-task 3 --tasks 4",
                        "--tasks 4: split makes tasks of 3 classes (--classes-per-task)");
  expect_one_line_error(split + " --classes-per-task 11", "--classes-per-task 11");
  expect_one_line_error(split + " --class-order random", "--class-order");
  expect_one_line_error("run --scenario permuted --classes-per-task 5", "--classes-per-task: sets how split makes");
}

// A time-ordered stream as CSV: a year column (not a feature) makes a task per year, in the order
// the years first appear in train.csv; the model sees the other columns.
TEST_F(CliScenarios, CsvWithATaskColumnRunsAsATaskSequence) {
  const fs::path data = dir / "stream";
  fs::create_directories(data);
  for (const char* split : {"train", "test"}) {
    std::ofstream f(data / (std::string(split) + ".csv"));
    f << "year,a,b,c,label\n";
    const int n = std::string(split) == "train" ? 120 : 40;
    for (int year = 2021; year <= 2023; ++year)
      for (int i = 0; i < n; ++i) {
        const int label = i % 2, shift = year - 2021;  // the class means move from year to year
        f << year << "," << (label ? 1 : -1) * (1 + shift) + 0.1 * (i % 7) << "," << 0.05 * (i % 5) << ","
          << (label ^ (shift & 1) ? 0.5 : -0.5) << "," << label << "\n";
      }
  }
  const std::string base = "run --dataset " + data.string() + " --arch 3-8-2 --strategy naive,ewc --lca-batches 2 ";
  CliResult r = run(base + "--task-column year --out " + (dir / "years").string());
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = results((dir / "years").string());
  EXPECT_EQ(j["config"]["scenario"], "task-column");
  EXPECT_EQ(j["config"]["task_column"], "year");
  EXPECT_EQ(j["config"]["tasks"], 3);
  for (const auto& run : j["runs"]) EXPECT_EQ(run["acc_matrix"].size(), 3u);
  EXPECT_NE(r.err.find("3 tasks, 120 train / 40 test samples in task 1"), std::string::npos) << r.err;
  r = run(base + "--task-column year --tasks 2 --out " + (dir / "two").string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(results((dir / "two").string())["config"]["tasks"], 2);
  expect_one_line_error(base + "--task-column month", "no column named 'month' in the header");
  expect_one_line_error(base + "--task-column year --scenario split", "--task-column year: the column makes the tasks");
  expect_one_line_error(base + "--task-column year --tasks 4", "has only 3 value(s)");
  expect_one_line_error(base + "--scenario task-column", "--scenario task-column: name the CSV column");
  expect_one_line_error("run --task-column year --arch 784-8-10", "--task-column year: fashion-mnist is not a CSV");
}

// results.json keeps each run's training loss (every step while a task has at most 250) with
// the task starts, and every test set's loss after each task.
TEST_F(CliScenarios, ResultsKeepTrainingAndTestLosses) {
  const std::string out = (dir / "losses").string();
  const CliResult r = run("run --scenario synthetic --arch 12-16-3 --tasks 3 --strategy naive,si --train-per-task 200 "
                          "--test-per-task 50 --batch 32 --epochs 2 --out " + out);
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = results(out);  // a range-for over results(out)["runs"] would outlive its temporary
  for (const auto& run : j["runs"]) {
    const auto& c = run["train_loss"];
    const int64_t steps_per_task = 2 * 7;  // 2 epochs of ceil(200 / 32) steps
    EXPECT_EQ(c["steps"], 3 * steps_per_task);
    EXPECT_EQ(c["task_start"], (std::vector<int64_t>{0, steps_per_task, 2 * steps_per_task}));
    const auto step = c["step"].get<std::vector<int64_t>>();
    ASSERT_EQ(step.size(), size_t(3 * steps_per_task));  // short tasks: a point a step
    for (size_t k = 0; k < step.size(); ++k) EXPECT_EQ(step[k], int64_t(k) + 1);
    const auto loss = c["loss"].get<std::vector<double>>();
    for (double l : loss) EXPECT_TRUE(std::isfinite(l) && l >= 0) << l;
    EXPECT_LT(loss[steps_per_task - 1], loss[0]) << "the first task's loss falls";
    ASSERT_EQ(run["test_loss"].size(), 3u);
    ASSERT_EQ(run["init_test_loss"].size(), 3u);
    for (const auto& row : run["test_loss"]) {
      ASSERT_EQ(row.size(), 3u);
      for (const auto& v : row) EXPECT_TRUE(v.is_number() && v.get<double>() > 0) << v;
    }
    // At initialisation the 3-way softmax is near uniform: the loss is near log 3.
    EXPECT_NEAR(run["init_test_loss"][0].get<double>(), std::log(3.0), 0.5);
    EXPECT_LT(run["test_loss"][0][0].get<double>(), run["init_test_loss"][0].get<double>());
  }
}

}  // namespace
}  // namespace clb
