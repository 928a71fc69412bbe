// results.json's config block comes from RunConfig and reads back into it: the keys earlier results
// carry keep their names and meaning, the values are the run's (resolved lambdas, effective IL
// setting), every field written is read back, and a bad block names the file and the field.
#include <gtest/gtest.h>

#include "framework/core/error.h"
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

namespace clb {
namespace {

// Every field away from its default, so a field that to_json writes and run_config_from_json does
// not read (or reads into the wrong place) changes the second block.
RunConfig everything_set() {
  RunConfig c;
  c.scenario.kind = "split", c.scenario.il = "task", c.scenario.tasks = 4;
  c.scenario.train_per_task = 123, c.scenario.test_per_task = 45, c.scenario.rotation_step = 7.5;
  c.scenario.recurring_tasks = 6;
  c.dataset = "/data/mnist", c.arch = "784-50-10";
  c.strategies = {"ewc", "er"};
  c.lambda_overrides = {{"ewc", 12.5f}, {"er", 0.0f}};
  c.strategy.gamma = 0.75f;
  c.fisher.estimator = FisherEstimator::kSampled, c.fisher.samples = 99, c.fisher.draws = 3, c.fisher.batch = 77;
  c.optimizer = Optimizer::kMomentum, c.lr = 0.125f, c.momentum = 0.5f;
  c.batch = 64, c.epochs = 3, c.lca_batches = 4, c.eval_batch = 333;
  c.engine = EngineKind::kHost, c.record_steps = false;
  c.memory.policy = ReplayPolicy::kClassBalanced, c.memory.max_samples = 55, c.memory.max_bytes = 4096;
  c.detect_boundaries = true, c.blurry_width = 300;
  c.detector.warmup = 5, c.detector.delta = 1.5, c.detector.lambda = 25, c.detector.loss_delta = 0.5;
  c.detector.loss_lambda = 3, c.detector.loss_floor = 0.1, c.detector.recognise = 2.5;
  c.seed = 17, c.seeds = 3, c.backend = "cpu", c.threads = 2;
  return c;
}

TEST(RunConfigJson, ReadsBackEveryFieldItWrites) {
  const nlohmann::json j = to_json(everything_set());
  const RunConfig back = run_config_from_json(j, "test");
  EXPECT_EQ(to_json(back), j) << to_json(back).dump(1) << "\nvs\n" << j.dump(1);
  // A whole results.json works too: its config block is read.
  EXPECT_EQ(to_json(run_config_from_json({{"config", j}, {"runs", nlohmann::json::array()}}, "test")), j);
}

std::string read_error(const nlohmann::json& j) {
  try {
    run_config_from_json(j, "r.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(RunConfigJson, BadBlocksNameTheFileAndTheField) {
  nlohmann::json j = to_json(everything_set());
  j.erase("epochs");
  EXPECT_NE(read_error(j).find("r.json: config has no field 'epochs'"), std::string::npos) << read_error(j);
  j = to_json(everything_set());
  j["batch"] = "big";
  EXPECT_NE(read_error(j).find("r.json: config.batch is \"big\""), std::string::npos) << read_error(j);
  j["batch"] = 1.5;
  EXPECT_NE(read_error(j).find("config.batch is 1.5, not the integer"), std::string::npos) << read_error(j);
  j = to_json(everything_set());
  j["fisher"]["estimator"] = "magic";
  EXPECT_NE(read_error(j).find("r.json: config.fisher.estimator 'magic': unknown"), std::string::npos) << read_error(j);
  j = to_json(everything_set());
  j["optimizer"] = "lion";
  EXPECT_NE(read_error(j).find("r.json: config.optimizer 'lion': use sgd"), std::string::npos) << read_error(j);
  j = to_json(everything_set());
  j["eval_batch"] = 0;  // no flag sets it: checked on reading
  EXPECT_NE(read_error(j).find("r.json: config.eval_batch is 0; it must be at least 1"), std::string::npos) << read_error(j);
  j = to_json(everything_set());
  j["lambda"].erase("ewc");  // a strategy run without its lambda would silently get 0
  EXPECT_NE(read_error(j).find("config.lambda has no value for the strategy 'ewc'"), std::string::npos) << read_error(j);
  j = to_json(everything_set());
  j["mixing_width"] = 0;  // blurry over nothing: not silently sharp
  EXPECT_NE(read_error(j).find("config.mixing_width is 0"), std::string::npos) << read_error(j);
  EXPECT_NE(read_error(nlohmann::json::array()).find("r.json: config is not a JSON object"), std::string::npos);
}

}  // namespace
}  // namespace clb
