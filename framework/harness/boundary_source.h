#pragma once
// Where the task loop learns that a task ended (docs/DESIGN.md §5):
//   given     at each task's end, as the scenario says; the optimizer restarts with each task
//   detected  the boundaries are hidden: a detector (framework/stream/task_detector.h) watches each
//             batch's inputs before it is trained on and its loss after, and at a detected boundary
//             the samples since the last one are consolidated and the optimizer restarts. Recurring
//             tasks are recognised; in task-IL each test set's head is picked by recognising its
//             inputs. The scores go into RunResult::detection.
#include <memory>
#include <optional>
#include <vector>

#include "framework/engine/engine.h"
#include "framework/harness/run_config.h"
#include "framework/harness/run_result.h"

namespace clb {

// A boundary found in the stream: `ended` holds the samples that stand for the task that ended
// (none: nothing to consolidate).
struct Boundary {
  std::vector<SampleRef> ended;
};

class BoundarySource {
 public:
  virtual ~BoundarySource() = default;
  // Task t's stream starts; true: the optimizer restarts here.
  virtual bool restarts_at_task(int t) const = 0;
  // After task t's last step: true when it is consolidated there (as a task of its own).
  virtual bool consolidates_at_task_end(int t) const = 0;
  // Before a step on B samples of task t: a boundary found just before them.
  virtual std::optional<Boundary> before_batch(int t, const SampleRef* refs, int B) { return {}; }
  // True when after_batch needs every step's loss (the engine then syncs each step).
  virtual bool watches_losses() const { return false; }
  // After that step, with its losses: a boundary found at its batch (which opens the new task).
  virtual std::optional<Boundary> after_batch(const std::vector<double>& losses, int B) { return {}; }
  // Accuracy on every task when `trained` tasks have been trained, if the source evaluates
  // differently from the engine (picked heads), else nullopt; with it, each test set's mean loss
  // into `loss` (Engine::evaluate's).
  virtual std::optional<std::vector<double>> evaluate(Engine& engine, int trained, std::vector<double>* loss) {
    return {};
  }
  // The run is over (its minibatches held up to batch_size samples): scores into result.detection.
  virtual void finish(int batch_size) {}
  // Its state between tasks, under "boundaries." in a checkpoint, and back.
  virtual void save_state(StateArchive& a) const {}
  virtual void load_state(const StateArchive& a) {}
};

// Given or detected, as cfg says; a detected source writes its scores and evaluation counts into
// `result`. Throws clb::Error for a learner that needs the boundaries.
std::unique_ptr<BoundarySource> make_boundary_source(const RunConfig& cfg, const Scenario& sc, const Mlp& init,
                                                     const std::string& learner, bool needs_boundaries,
                                                     RunResult& result);

}  // namespace clb
