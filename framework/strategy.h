#pragma once
// Strategies: what a model update does beyond plain fine-tuning. The harness asks a strategy
// which tasks' data to train on, which quadratic penalty to fuse into the optimizer update, and
// tells it when a task ends (where EWC computes and consolidates its Fisher).
#include <memory>
#include <string>
#include <vector>

#include "framework/engine.h"
#include "framework/fisher.h"
#include "framework/mlp.h"
#include "framework/quadratic_penalty.h"
#include "framework/task.h"

namespace clb {

struct TaskEndContext {
  Engine& engine;              // computes the Fisher where the run's state lives
  const Mlp& model;            // the parameters at the end of the task (host copy)
  const std::vector<Task>& tasks;
  int task;                    // index of the task that just ended
  const FisherConfig& fisher;  // estimator, samples, seed
  // --task-boundaries detect: the samples since the last detected boundary, which stand for the
  // task that ended (null: the task's training set, the boundaries being given).
  const std::vector<SampleRef>* samples = nullptr;
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string name() const = 0;
  // joint trains on the union of tasks 0..t when learning task t.
  virtual bool trains_on_seen_tasks() const { return false; }
  // Penalty fused into the optimizer update; null when the strategy has none (yet).
  virtual const QuadraticPenalty* penalty() const { return nullptr; }
  virtual void end_task(const TaskEndContext& ctx, FisherStats* stats) {}
  // Bytes of state the strategy keeps between tasks (Fisher, anchors); the replay memory, which
  // the harness keeps for it, is counted there.
  virtual int64_t bytes_held() const { return 0; }
  // How the strategy uses the replay memory (framework/memory/replay_buffer.h), if at all.
  virtual ReplayUse replay_use() const { return ReplayUse::kNone; }
  // SI: the engine keeps the path integral of the loss (Engine::take_path_integral).
  virtual bool tracks_path() const { return false; }
};

struct StrategyParams {
  float gamma = 1.0f;  // online EWC decay
};

// naive, joint, l2, ewc, online-ewc, si, mas, er, agem, ewc+er. Throws clb::Error naming
// --strategy for anything else.
std::unique_ptr<Strategy> make_strategy(const std::string& name, const StrategyParams& p, int64_t num_params);
const std::vector<std::string>& strategy_names();

}  // namespace clb
