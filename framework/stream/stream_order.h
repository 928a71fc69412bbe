#pragma once
// The order a run's training samples arrive in: each task's samples shuffled per epoch, the same
// for every strategy of a run, and, for a blurry stream, neighbouring tasks mixed around each
// boundary.
#include <cstdint>
#include <string>
#include <vector>

#include "framework/data/scenarios.h"

namespace clb {

// Shuffles a task's training order for an epoch, seeded by (seed, task, epoch).
void shuffle_order(std::vector<SampleRef>& refs, uint64_t seed, int task, int epoch);

// --stream blurry: each task's epoch-0 training order, shuffled as the sharp stream shuffles it,
// then blurred: around each boundary the last width/2 samples of one task and the first width/2
// of the next are re-dealt so that position p of the `width` holds the new task's sample with
// probability p/width (the old one's otherwise, each side keeping its own order).
std::vector<std::vector<SampleRef>> blurred_orders(const Scenario& sc, uint64_t seed, int64_t width);

// The samples each epoch of each task trains on, in order.
class StreamOrder {
 public:
  // seen_tasks: task t trains on the union of tasks 0..t (joint; `learner` names it in errors).
  // blurry_width > 0: a blurry stream (one epoch, one task at a time); throws clb::Error for a
  // stream that cannot be.
  StreamOrder(const Scenario& sc, uint64_t seed, int64_t blurry_width, int epochs, bool seen_tasks,
              const std::string& learner);
  // Task t starts: the samples of its epochs (throws clb::Error when there are none).
  void begin_task(int t);
  // Epoch e's order of the current task (epochs in turn: each shuffles the last one's order).
  const std::vector<SampleRef>& epoch(int e);

 private:
  const Scenario& sc_;
  uint64_t seed_;
  bool seen_tasks_;
  int task_ = -1;
  std::vector<SampleRef> refs_;
  std::vector<std::vector<SampleRef>> blurred_;
};

}  // namespace clb
