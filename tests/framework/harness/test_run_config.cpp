// results.json's config block comes from RunConfig: the keys earlier results carry keep their names
// and meaning, and the values are the run's (resolved lambdas, effective IL setting).
#include <gtest/gtest.h>

#include "framework/harness/run_config.h"

namespace clb {
namespace {

TEST(RunConfigJson, KeepsTheEarlierKeysAndWritesTheRunsValues) {
  RunConfig c;
  c.scenario.kind = "permuted";
  c.strategies = {"naive", "l2"};
  c.lambda = 100.0f;
  c.lambda_overrides["l2"] = 0.5f;
  c.fisher.estimator = FisherEstimator::kExact;
  c.optimizer = Optimizer::kAdam;
  c.memory.policy = ReplayPolicy::kClassBalanced;
  c.detect_boundaries = true;
  const nlohmann::json j = to_json(c);
  for (const char* key : {"scenario", "scenario_il", "dataset", "tasks", "arch", "strategies", "lambda", "gamma",
                          "fisher", "optimizer", "lr", "momentum", "batch", "epochs", "train_per_task",
                          "test_per_task", "seed", "seeds", "lca_batches", "backend"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["scenario_il"], "domain");  // permuted is domain-IL whatever --scenario-il says
  EXPECT_EQ(j["lambda"]["naive"], 100.0f);
  EXPECT_EQ(j["lambda"]["l2"], 0.5f);
  EXPECT_EQ(j["fisher"]["estimator"], "exact");
  EXPECT_EQ(j["optimizer"], "adam");
  EXPECT_EQ(j["memory"]["policy"], "class-balanced");
  EXPECT_EQ(j["task_boundaries"], "detect");
  EXPECT_EQ(j["stream"], "sharp");
  c.scenario.kind = "recurring";
  EXPECT_EQ(to_json(c)["dataset"], "generated");
}

}  // namespace
}  // namespace clb
