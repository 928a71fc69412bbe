#pragma once
// The engine: where a run's parameters, optimizer state, penalty and data live, and how the
// harness's passes (training steps, evaluation, Fisher) run there.
//   host      host memory, the CPU backend, minibatches gathered per step and data parallelism
//             across the cores (framework/model/data_parallel.h): the reference path.
//   resident  everything in backend memory (device memory for CUDA): data sets uploaded once,
//             minibatches gathered there, the full-batch training step recorded once and
//             replayed (a CUDA graph), losses and accuracy counts read back only when asked for.
//             It runs on any backend; on the CPU the tests use it to check it against `host`.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "framework/backend/backend.h"
#include "framework/core/state_archive.h"
#include "framework/consolidation/fisher.h"
#include "framework/model/mlp.h"
#include "framework/consolidation/quadratic_penalty.h"
#include "framework/data/task.h"
#include "framework/engine/step_plan.h"
#include "framework/model/evaluate.h"

namespace clb {

// How a training step uses extra rows beside its batch (a strategy's replay memory supplies them):
//   join     the rows join the step's batch (one mean loss over both): experience replay
//   project  their gradient g_ref is a direction the step may not oppose: if the batch's gradient g
//            has g . g_ref < 0, the step uses g - (g . g_ref / g_ref . g_ref) g_ref instead (A-GEM,
//            framework/consolidation/agem_projection.h)
enum class MemoryRowsUse { kJoin, kProject };

// How an engine trains, as a run chooses it: the harness's RunConfig holds these same fields (it
// derives from this struct), so an engine's settings are taken from it in one assignment.
struct TrainingSettings {
  Optimizer optimizer = Optimizer::kSgd;
  float lr = 0.01f, momentum = 0.9f;  // momentum: the momentum optimizer's coefficient
  int batch = 128;                    // largest training minibatch
  int eval_batch = 1000;              // rows per evaluation pass
  bool record_steps = true;           // resident: replay a recorded full-batch step (CUDA graph)
};

// ... and what one strategy's run adds to them.
struct EngineConfig : TrainingSettings {
  float lambda = 0.0f;       // penalty strength
  int memory_batch = 0;      // most rows a step takes from the replay memory
  bool track_path = false;   // keep SI's path integral (take_path_integral)
  bool planned_steps = false;  // the strategy shapes its steps or predictions (StepPlan, Predictor)
};

// SI's path integral since the last take: omega_k = -sum over the steps of g_k * (change of
// theta_k), g the step's gradient of the loss (penalty not included), and the parameters when the
// sum started.
struct PathIntegral {
  std::vector<float> omega, theta_start;
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual std::string name() const = 0;
  // Starts a task: optimizer state and Adam's step count back to zero.
  virtual void begin_task() = 0;
  // The penalty the following updates fuse in (null: none). The engine copies what it needs.
  virtual void set_penalty(const QuadraticPenalty* penalty) = 0;
  // The order the following train_next calls walk through (one epoch).
  virtual void set_order(const std::vector<SampleRef>& train_refs) = 0;
  // One training step on the next B samples of the order.
  virtual void train_next(int B) = 0;
  // The same step with `memory`, extra rows in host memory (at most EngineConfig::memory_batch of
  // them), used as `use` says.
  virtual void train_next_with_memory(int B, const Batch& memory, MemoryRowsUse use) = 0;
  // The same step as `plan` shapes it (EngineConfig::planned_steps; framework/engine/step_plan.h).
  virtual void train_next_planned(int B, const StepPlan& plan) = 0;
  // How the following evaluations predict (null: the network's argmax; EngineConfig::planned_steps).
  virtual void set_predictor(const Predictor* predictor) = 0;
  // Mean minibatch losses of the steps since the last call, in order; waits for them.
  virtual std::vector<double> take_losses() = 0;
  // Accuracy on each listed task's test set, in the order given; adds the samples seen. loss (if
  // not null): each one's mean cross-entropy too (NaN for an empty test set).
  virtual std::vector<double> evaluate(const std::vector<int>& tasks, int64_t* samples,
                                       std::vector<double>* loss = nullptr) = 0;
  // The current parameters (Mlp::params layout).
  virtual void read_params(std::vector<float>& params) = 0;
  // Replaces the parameters (a strategy's edit between tasks: PackNet's pruning).
  virtual void write_params(const std::vector<float>& params) = 0;
  // The path integral so far (EngineConfig::track_path), and a new one started from here.
  virtual PathIntegral take_path_integral() = 0;
  // Diagonal Fisher of the current parameters over training samples `refs` (framework/consolidation/fisher.h).
  virtual std::vector<float> fisher(const std::vector<SampleRef>& refs, const FisherConfig& cfg,
                                    FisherStats* stats) = 0;
  // What later steps depend on, between tasks: parameters, optimizer moments and step count, SI's
  // path integral, under "engine." in a checkpoint; load_state puts it back into an engine made
  // with the same settings (the penalty comes from the strategy: set_penalty).
  virtual void save_state(StateArchive& a) = 0;
  virtual void load_state(const StateArchive& a) = 0;
};

const char* to_string(Optimizer o);
// The per-parameter moments the optimizer keeps beside the gradient: sgd 0, momentum 1, adam 2.
inline int optimizer_moments(Optimizer o) { return o == Optimizer::kAdam ? 2 : o == Optimizer::kMomentum ? 1 : 0; }
// sgd | momentum | adam; throws clb::SettingError naming the optimizer setting for anything else.
Optimizer parse_optimizer(const std::string& text);

enum class EngineKind { kAuto, kHost, kResident };  // auto: host for the CPU backend, else resident
const char* to_string(EngineKind k);
// auto | host | resident; throws clb::SettingError naming the engine setting for anything else.
EngineKind parse_engine_kind(const std::string& text);

// The engine `kind` (auto resolved) if it can serve `cfg` on `be`; else throws clb::SettingError
// naming the setting to change. make_engine checks this first; a run checks it before any work.
EngineKind check_engine_settings(const Backend& be, const EngineConfig& cfg, EngineKind kind);
std::unique_ptr<Engine> make_engine(Backend& be, const std::vector<Task>& tasks, const Mlp& init,
                                    const EngineConfig& cfg, EngineKind kind = EngineKind::kAuto);

// The update an engine's training step applies (Backend::fused_update), its step count aside;
// fisher/anchor null: no penalty; m/v null where the optimizer keeps no such state.
FusedUpdateArgs update_args(const EngineConfig& cfg, int64_t n, float* theta, const float* grad, const float* fisher,
                          const float* anchor, float* m, float* v);

// The Fisher of `model` over `refs`, computed where `be` keeps its data (an engine made for it).
std::vector<float> fisher_on(Backend& be, const std::vector<Task>& tasks, const Mlp& model,
                             const std::vector<SampleRef>& refs, const FisherConfig& cfg, FisherStats* stats);

std::unique_ptr<Engine> make_host_engine(Backend& be, const std::vector<Task>& tasks, const Mlp& init,
                                         const EngineConfig& cfg);
std::unique_ptr<Engine> make_resident_engine(Backend& be, const std::vector<Task>& tasks, const Mlp& init,
                                             const EngineConfig& cfg);

}  // namespace clb
