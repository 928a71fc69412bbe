#pragma once
// A task of a continual-learning sequence: which rows of which data set it trains and tests on,
// how its inputs are transformed (a pixel map: permutation, rotation) and which classes its head
// allows (task-IL). Tasks share the underlying Dataset; nothing is copied per task.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "framework/data/dataset.h"
#include "framework/data/batch.h"

namespace clb {

struct Task {
  int id = 0;
  std::string name;
  std::shared_ptr<const Dataset> train, test;
  std::vector<int32_t> train_rows, test_rows;  // rows of train / test used by this task
  std::vector<int32_t> pixel_map;              // (dim) x'[j] = map[j] < 0 ? 0 : x[map[j]]; empty = identity
  std::vector<uint8_t> class_mask;             // (num_outputs) 1 = allowed; empty = all (no masking)
  int identity = -1;  // which underlying task this is: equal for the repeats of a recurring task; -1 = its own
};

// A task over the first n rows (0 = all) of one data set, used as both its train and its test
// split: no transform, no mask. For `clbench fisher`, benchmarks and tests.
Task whole_dataset_task(std::shared_ptr<const Dataset> data, int64_t n = 0);

// True when any task masks classes (task-IL heads).
bool has_class_masks(const std::vector<Task>& tasks);

enum class Split { kTrain, kTest };

// One sample: task index and row of that task's train or test data set.
struct SampleRef {
  int32_t task;
  int32_t row;
};

std::vector<SampleRef> sample_refs(const Task& t, Split split, int64_t limit = 0);  // limit 0 = all

// Owns the memory a Batch points to.
struct BatchBuffers {
  std::vector<float> x;
  std::vector<int32_t> y;
  std::vector<uint8_t> mask;
  Batch batch;
};

// The rows of a and then of b as one batch in out (class masks: all-allowed rows where one side
// has none). The batch points into out.
const Batch& join_batches(const Batch& a, const Batch& b, int dim, int num_outputs, BatchBuffers& out);

// Gathers n samples into buf (applying each task's pixel map and class mask). num_outputs sizes
// the mask rows; the mask is attached only when the sampled tasks have one.
void gather(const std::vector<Task>& tasks, Split split, const SampleRef* refs, int n, int num_outputs,
            BatchBuffers& buf);

}  // namespace clb
