#include "framework/harness/run_config.h"

namespace clb {

float RunConfig::lambda_for(const std::string& name) const {
  const auto it = lambda_overrides.find(name);
  return it == lambda_overrides.end() ? lambda : it->second;
}

namespace {

const char* to_string(Optimizer o) { return o == Optimizer::kAdam ? "adam" : o == Optimizer::kMomentum ? "momentum" : "sgd"; }
const char* to_string(EngineKind k) { return k == EngineKind::kHost ? "host" : k == EngineKind::kResident ? "resident" : "auto"; }
const char* to_string(ReplayPolicy p) { return p == ReplayPolicy::kClassBalanced ? "class-balanced" : "reservoir"; }
bool generated(const ScenarioConfig& s) { return s.kind == "synthetic" || s.kind == "recurring"; }

}  // namespace

nlohmann::json to_json(const RunConfig& c) {
  std::map<std::string, float> lambdas;
  for (const auto& name : c.strategies) lambdas[name] = c.lambda_for(name);
  const DetectorConfig& d = c.detector;
  return {{"scenario", c.scenario.kind},
          {"scenario_il", c.scenario.kind == "split" ? c.scenario.il : "domain"},
          {"dataset", generated(c.scenario) ? "generated" : c.dataset},
          {"tasks", c.scenario.tasks},
          {"train_per_task", c.scenario.train_per_task},
          {"test_per_task", c.scenario.test_per_task},
          {"rotation_step", c.scenario.rotation_step},
          {"recurring_tasks", c.scenario.recurring_tasks},
          {"arch", c.arch},
          {"strategies", c.strategies},
          {"lambda", lambdas},
          {"gamma", c.strategy.gamma},
          {"fisher", {{"estimator", to_string(c.fisher.estimator)},
                      {"samples", c.fisher.samples},
                      {"draws", c.fisher.draws},
                      {"batch", c.fisher.batch}}},
          {"optimizer", to_string(c.optimizer)},
          {"lr", c.lr},
          {"momentum", c.momentum},
          {"batch", c.batch},
          {"epochs", c.epochs},
          {"lca_batches", c.lca_batches},
          {"eval_batch", c.eval_batch},
          {"engine", to_string(c.engine)},
          {"record_steps", c.record_steps},
          {"memory", {{"policy", to_string(c.memory.policy)},
                      {"samples", c.memory.max_samples},
                      {"bytes", c.memory.max_bytes}}},
          {"task_boundaries", c.detect_boundaries ? "detect" : "given"},
          {"stream", c.blurry_width > 0 ? "blurry" : "sharp"},
          {"mixing_width", c.blurry_width},
          {"detector", {{"warmup", d.warmup},
                        {"delta", d.delta},
                        {"lambda", d.lambda},
                        {"loss_delta", d.loss_delta},
                        {"loss_lambda", d.loss_lambda},
                        {"loss_floor", d.loss_floor},
                        {"recognise", d.recognise}}},
          {"seed", c.seed},
          {"seeds", c.seeds},
          {"backend", c.backend},
          {"threads", c.threads}};
}

}  // namespace clb
