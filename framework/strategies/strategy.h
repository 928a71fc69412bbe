#pragma once
// A strategy: what a model update does beyond plain fine-tuning. It implements the hooks the
// harness's task loop fires (docs/DESIGN.md §5) and owns its state: its quadratic penalty, its
// replay memory, its importances. The loop knows no strategy by name; the registry
// (framework/strategies/registry.h) is the one list of them. A strategy object serves one run.
//
//   begin_run     once, before the engine is made: state sized for the run, what it needs of the
//                 engine (room for memory rows, SI's path integral)
//   before_step   before each training step: extra rows to train with, and how, or the step's
//                 whole plan (framework/engine/step_plan.h: LwF, iCaRL, DER++, GEM, PackNet)
//   after_step    after it: the samples just trained on (the replay memory's offers)
//   end_task      a task ended (given or detected boundary): consolidate
//   penalty       the quadratic penalty the following steps fuse into their update
//   predictor     how evaluations predict, when not by the network's argmax (iCaRL, PackNet)
//   bytes_held    the state it keeps between tasks, for the reports; replay_bytes the part of it
//                 that is a replay memory (samples, and what is stored beside them)
//   save_state    that state into a checkpoint after a task, load_state back after begin_run
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "framework/consolidation/fisher.h"
#include "framework/core/state_archive.h"
#include "framework/consolidation/quadratic_penalty.h"
#include "framework/data/scenarios.h"
#include "framework/engine/engine.h"
#include "framework/model/mlp.h"
#include "framework/model/evaluate.h"
#include "framework/stream/replay_buffer.h"

namespace clb {

// What a strategy is told of the run when it starts.
struct RunStart {
  const Scenario& scenario;
  const Mlp& init;
  uint64_t seed;
  const ReplayBufferConfig& memory;  // the replay memory's size and policy, for those that keep one
  int epochs = 1;                    // passes over each task's training set
  bool boundaries_given = true;      // false: detected from the stream (end_task fires where found)
};

// Rows a step trains with beside its batch (host memory; null: none), and how; or (plan not null)
// the step as the strategy plans it (EngineConfig::planned_steps).
struct StepRows {
  const Batch* rows = nullptr;
  MemoryRowsUse use = MemoryRowsUse::kJoin;
  const StepPlan* plan = nullptr;
};

struct TaskEndContext {
  Engine& engine;              // computes the Fisher where the run's state lives
  Backend& be;                 // the run's backend (the CPU's, for the strategies that plan their steps)
  const Mlp& model;            // the parameters at the end of the task (host copy)
  const std::vector<Task>& tasks;
  int task;                    // index of the task that just ended
  const FisherConfig& fisher;  // estimator, samples, seed
  // Detected boundaries: the samples since the last one, which stand for the task that ended
  // (null: the task's training set, the boundaries being given).
  const std::vector<SampleRef>* samples = nullptr;
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string name() const = 0;
  // Task t trains on the union of tasks 0..t (joint), which needs the boundaries.
  virtual bool trains_on_seen_tasks() const { return false; }
  virtual void begin_run(const RunStart& run, EngineConfig& engine) {}
  virtual StepRows before_step(int B) { return {}; }
  // The B samples the step trained on; first_epoch: their first time through (offered once).
  virtual void after_step(const SampleRef* refs, int B, bool first_epoch) {}
  virtual void end_task(const TaskEndContext& ctx, FisherStats* stats) {}
  // end_task also after the last task (given boundaries): what it builds serves predictions
  // (iCaRL's exemplar means), not only the tasks that follow.
  virtual bool ends_last_task() const { return false; }
  // Penalty fused into the optimizer update; null when the strategy has none (yet).
  virtual const QuadraticPenalty* penalty() const { return nullptr; }
  // How evaluations predict (null: the network's argmax); asked again after every end_task.
  virtual const Predictor* predictor() const { return nullptr; }
  // Bytes of state kept between tasks: penalty weights and anchors, the replay memory.
  virtual int64_t bytes_held() const { return 0; }
  // The part of bytes_held that is its replay memory (samples and what is stored with them).
  virtual int64_t replay_bytes() const { return 0; }
  // The replay memory at the end of the run, in words ("" without one).
  virtual std::string memory_description() const { return {}; }
  // How the importance in its penalty is estimated, for the reports' Fisher column.
  virtual std::string importance_label(const FisherConfig& f) const { return to_string(f.estimator); }
  // Its state between tasks, under "strategy." in a checkpoint; load_state follows begin_run.
  virtual void save_state(StateArchive& a) const {}
  virtual void load_state(const StateArchive& a) {}
};

// What strategies take from the command line beside lambda (which the run gives each).
struct StrategyParams {
  float gamma = 1.0f;        // online EWC decay
  float temperature = 2.0f;  // lwf: the distillation's softmax temperature
  float der_beta = 0.5f;     // der++: weight of the memory rows' cross-entropy
  float gem_margin = 0.5f;   // gem: the dual variables' lower bound (the paper's memory strength)
};

}  // namespace clb
