#pragma once
// Test accuracy of a model on host memory, the CPU's data parallelism spread over the test set.
#include <cstdint>
#include <vector>

#include "framework/backend/backend.h"
#include "framework/data/task.h"
#include "framework/model/mlp.h"

namespace clb {

// Accuracy of m on task `task`'s test set (with its class mask); adds the samples seen. loss (if
// not null): the mean cross-entropy over that test set (NaN for an empty one).
double evaluate(Backend& be, const Mlp& m, const std::vector<Task>& tasks, int task, int eval_batch,
                int64_t* samples_seen = nullptr, double* loss = nullptr);

}  // namespace clb
