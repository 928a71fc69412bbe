#pragma once
// One configuration for a run (docs/DESIGN.md §6): the CLI fills it from its flags, the harness
// reads it and derives the engine's from it, and results.json's config block is written from it,
// every field, so that a results.json says how to reproduce its run.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "framework/consolidation/fisher.h"
#include "framework/data/scenarios.h"
#include "framework/engine/engine.h"
#include "framework/strategies/strategy.h"
#include "framework/stream/replay_buffer.h"
#include "framework/stream/task_detector.h"

namespace clb {

struct RunConfig : TrainingSettings {  // optimizer, lr, momentum, batch, eval_batch, record_steps
  // The task sequence (scenario.seed is set per seed of the run) and the model.
  ScenarioConfig scenario;
  std::string dataset = "fashion-mnist";  // fashion-mnist or a directory (unused by generated scenarios)
  std::string arch = "784-400-400-10";
  // The strategies compared, and their parameters.
  std::vector<std::string> strategies;
  float lambda = 0.0f;                          // penalty strength of every strategy ...
  std::map<std::string, float> lambda_overrides;  // ... but these
  StrategyParams strategy;
  FisherConfig fisher;  // fisher.seed is derived per consolidation
  // Training, beside TrainingSettings.
  int epochs = 1;
  int lca_batches = 10;  // beta: LCA averages accuracy after 0..beta minibatches
  EngineKind engine = EngineKind::kAuto;  // framework/engine/engine.h
  ReplayBufferConfig memory;              // the replay memory of the strategies that keep one
  // The stream: boundaries given or detected (framework/stream/task_detector.h); blurry_width > 0
  // mixes neighbouring tasks' samples over that many samples around each boundary (the new task's
  // share rising linearly from 0 to 1).
  bool detect_boundaries = false;
  int64_t blurry_width = 0;
  DetectorConfig detector;
  // Seeds (seed, seed+1, ...) and the machine.
  uint64_t seed = 0;
  int seeds = 1;
  std::string backend = "auto";  // the CLI records the one it picked
  int threads = 0;               // 0 = every core

  float lambda_for(const std::string& strategy) const;
  // Sets the arch (written the canonical way) and what follows from it: a generated scenario's
  // input width and classes. Throws clb::SettingError for an arch that does not parse.
  void set_arch(const std::string& text);
};

// The config block of results.json: every field, under the names earlier results used.
nlohmann::json to_json(const RunConfig& cfg);
// The run a config block (to_json's, or a results.json holding one under "config") describes:
// clbench run --config reruns it. Timing and provenance (framework/core/build_info.h) are ignored. Throws clb::Error naming `source`
// and the field for a missing or ill-typed field or an unknown value.
RunConfig run_config_from_json(const nlohmann::json& j, const std::string& source);

}  // namespace clb
