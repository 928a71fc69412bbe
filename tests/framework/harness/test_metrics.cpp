// Metrics on hand-computed accuracy matrices, including the sign conventions of BWT (negative
// when tasks are forgotten) and forgetting (positive when tasks are forgotten).
#include <gtest/gtest.h>

#include <cmath>

#include "framework/harness/metrics.h"

namespace clb {
namespace {

TEST(Metrics, HandComputedThreeTasks) {
  // R[i][j]: accuracy on task j after training task i.
  const Matrix R = {{0.90, 0.20, 0.10},  //
                    {0.60, 0.80, 0.30},
                    {0.50, 0.70, 0.95}};
  const std::vector<double> b = {0.10, 0.15, 0.05};
  const Matrix lca = {{0.1, 0.5, 0.7}, {0.2, 0.6, 0.8}, {0.3, 0.4, 0.9}};
  const ClMetrics m = compute_metrics(R, b, lca);
  EXPECT_NEAR(m.acc, (0.50 + 0.70 + 0.95) / 3, 1e-12);
  EXPECT_NEAR(m.bwt, ((0.50 - 0.90) + (0.70 - 0.80)) / 2, 1e-12);  // -0.25: forgetting is negative
  EXPECT_NEAR(m.fwt, ((0.20 - 0.15) + (0.30 - 0.05)) / 2, 1e-12);
  // max over l < T-1 of R[l][j] minus R[T-1][j]: task 1: 0.90 - 0.50; task 2: 0.80 - 0.70.
  EXPECT_NEAR(m.forgetting, (0.40 + 0.10) / 2, 1e-12);
  EXPECT_NEAR(m.lca, (0.1 + 0.5 + 0.7 + 0.2 + 0.6 + 0.8 + 0.3 + 0.4 + 0.9) / 9, 1e-12);
}

TEST(Metrics, ForgettingUsesTheMaximumNotTheDiagonal) {
  // Task 1 improves after task 2 (backward transfer) and then drops: forgetting measures the
  // drop from the best accuracy (0.9), BWT from the accuracy right after learning it (0.7).
  const Matrix R = {{0.70, 0.0, 0.0}, {0.90, 0.80, 0.0}, {0.60, 0.80, 0.90}};
  const ClMetrics m = compute_metrics(R, {0, 0, 0}, {});
  EXPECT_NEAR(m.forgetting, ((0.90 - 0.60) + (0.80 - 0.80)) / 2, 1e-12);
  EXPECT_NEAR(m.bwt, ((0.60 - 0.70) + 0.0) / 2, 1e-12);
  EXPECT_TRUE(std::isnan(m.lca));  // no curves recorded
}

TEST(Metrics, PositiveBackwardTransferIsPositive) {
  const Matrix R = {{0.5, 0.1}, {0.7, 0.9}};
  const ClMetrics m = compute_metrics(R, {0.1, 0.1}, {});
  EXPECT_NEAR(m.bwt, 0.2, 1e-12);
  EXPECT_NEAR(m.forgetting, 0.5 - 0.7, 1e-12);  // negative forgetting: the task got better
  EXPECT_NEAR(m.fwt, 0.0, 1e-12);
}

TEST(Metrics, OneTaskHasNoTransferOrForgetting) {
  const ClMetrics m = compute_metrics({{0.8}}, {0.1}, {{0.1, 0.8}});
  EXPECT_NEAR(m.acc, 0.8, 1e-12);
  EXPECT_TRUE(std::isnan(m.bwt));
  EXPECT_TRUE(std::isnan(m.fwt));
  EXPECT_TRUE(std::isnan(m.forgetting));
  EXPECT_NEAR(m.lca, 0.45, 1e-12);
}

TEST(Metrics, MeanStdUsesSampleStd) {
  const MeanStd ms = mean_std({1.0, 2.0, 4.0});
  EXPECT_NEAR(ms.mean, 7.0 / 3, 1e-12);
  EXPECT_NEAR(ms.std, std::sqrt(((1 - 7.0 / 3) * (1 - 7.0 / 3) + (2 - 7.0 / 3) * (2 - 7.0 / 3) +
                                 (4 - 7.0 / 3) * (4 - 7.0 / 3)) / 2),
              1e-12);
  EXPECT_EQ(mean_std({3.0}).std, 0.0);
}

}  // namespace
}  // namespace clb

namespace clb {
namespace {

// A short task keeps every step; a long one is averaged over bins of ceil(n / 250) steps, each
// point at the global step its bin ends on, the last bin shorter; task_start counts across tasks.
TEST(LossCurve, BinsLongTasksAndCountsStepsAcrossTasks) {
  LossCurve c;
  c.add_task({3.0, 2.0, 1.0});
  EXPECT_EQ(c.step, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(c.loss, (std::vector<double>{3.0, 2.0, 1.0}));
  std::vector<double> long_task(1001);
  for (size_t k = 0; k < long_task.size(); ++k) long_task[k] = double(k);
  c.add_task(long_task);  // bins of 5 steps: 200 full ones and one of 1 step
  EXPECT_EQ(c.task_start, (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(c.steps, 1004);
  ASSERT_EQ(c.step.size(), 3u + 201u);
  EXPECT_EQ(c.step[3], 3 + 5);
  EXPECT_DOUBLE_EQ(c.loss[3], 2.0);  // mean of 0..4
  EXPECT_EQ(c.step.back(), 1004);
  EXPECT_DOUBLE_EQ(c.loss.back(), 1000.0);
  c.add_task({});  // a task without steps adds its start and no point
  EXPECT_EQ(c.task_start.back(), 1004);
  EXPECT_EQ(c.step.size(), 204u);
  EXPECT_LE(int64_t(c.step.size() - 3), LossCurve::kPointsPerTask);
}

}  // namespace
}  // namespace clb
