// Whole runs through the harness on the synthetic stream: EWC with lambda = 0 is naive step for
// step; the same seed gives a bitwise-identical run; EWC with a penalty forgets less than naive.
#include <gtest/gtest.h>

#include <cstring>

#include "framework/harness/task_loop.h"
#include "framework/strategies/registry.h"
#include "tests/common/test_helpers.h"

namespace clb {
namespace {

Scenario small_synthetic(uint64_t seed) { return test::generated_tasks(3, 600, 300, 20, 4, seed); }

RunResult run(const std::string& name, float lambda, uint64_t seed, Optimizer opt = Optimizer::kSgd) {
  auto be = make_backend("cpu");
  const Scenario s = small_synthetic(seed);
  const Mlp init(MlpArch::parse("20-32-4"), seed);
  RunConfig cfg;
  cfg.optimizer = opt;
  cfg.lr = opt == Optimizer::kAdam ? 1e-3f : 0.05f;
  cfg.batch = 64;  // two shards on a 2-core machine: the data-parallel path is exercised
  cfg.lambda = lambda;
  cfg.lca_batches = 3;
  auto strategy = make_strategy(name, {}, init.arch.num_params());
  return run_strategy(*be, s, init, *strategy, cfg, seed, nullptr);
}

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(Harness, EwcWithZeroLambdaIsNaiveStepForStep) {
  for (Optimizer opt : {Optimizer::kSgd, Optimizer::kAdam}) {
    const RunResult naive = run("naive", 0.0f, 1, opt), ewc = run("ewc", 0.0f, 1, opt);
    EXPECT_TRUE(bitwise_equal(naive.final_model.params, ewc.final_model.params));
    EXPECT_EQ(naive.acc, ewc.acc);
    EXPECT_GT(ewc.fisher_samples, 0);  // the Fisher was computed, it just carries no weight
  }
}

TEST(Harness, SameSeedGivesBitwiseIdenticalRun) {
  const RunResult a = run("ewc", 10.0f, 7), b = run("ewc", 10.0f, 7);
  EXPECT_TRUE(bitwise_equal(a.final_model.params, b.final_model.params));
  EXPECT_EQ(a.acc, b.acc);
  EXPECT_EQ(a.lca_curves, b.lca_curves);
  const RunResult c = run("ewc", 10.0f, 8);
  EXPECT_FALSE(bitwise_equal(a.final_model.params, c.final_model.params));
}

TEST(Harness, ShapesOfTheResult) {
  const RunResult r = run("online-ewc", 1.0f, 2);
  ASSERT_EQ(r.acc.size(), 3u);
  ASSERT_EQ(r.init_acc.size(), 3u);
  for (const auto& curve : r.lca_curves) EXPECT_EQ(curve.size(), 4u);  // beta = 3: Z_0..Z_3
  EXPECT_EQ(r.train_samples, 3 * 600);
  EXPECT_EQ(r.fisher_samples, 2 * 600);  // no Fisher after the last task: nothing trains against it
  EXPECT_EQ(r.strategy_bytes, 2 * r.final_model.arch.num_params() * int64_t(sizeof(float)));
  EXPECT_GT(r.penalty_trace, 0.0);
  for (double a : r.acc.back()) EXPECT_TRUE(a >= 0.0 && a <= 1.0);
  // Z_0 of task 2 is the accuracy on task 2 before training it: R[0][1].
  EXPECT_EQ(r.lca_curves[1][0], r.acc[0][1]);
}

TEST(Harness, JointTrainsOnEverySeenTask) {
  const RunResult r = run("joint", 0.0f, 3);
  EXPECT_EQ(r.train_samples, 600 + 1200 + 1800);
}

}  // namespace
}  // namespace clb
