#pragma once
// Test accuracy of a model on host memory, the CPU's data parallelism spread over the test set.
#include <cstdint>
#include <vector>

#include "framework/backend/backend.h"
#include "framework/data/task.h"
#include "framework/model/mlp.h"

namespace clb {

// How a strategy predicts when not simply by the network's argmax over the allowed classes.
class Predictor {
 public:
  virtual ~Predictor() = default;
  // The parameters task `task` is tested with, into `params` (PackNet: only the weights of tasks
  // up to it); false: the model's own.
  virtual bool params_for(int task, const std::vector<float>& current, std::vector<float>& params) const {
    return false;
  }
  // Whether classify() replaces the argmax (iCaRL's nearest mean of exemplars).
  virtual bool classifies() const { return false; }
  // Each of B rows' class from its features (the last hidden layer's outputs, (B, dim)) and class
  // mask ((B, C) or null); -1: it cannot say (counted wrong).
  virtual void classify(const float* features, int B, int dim, const uint8_t* class_mask, int C, int32_t* out) const {}
};

// Accuracy of m on task `task`'s test set (with its class mask); adds the samples seen. loss (if
// not null): the mean cross-entropy over that test set (NaN for an empty one). predictor (if not
// null): how the strategy predicts; the loss stays the network's cross-entropy.
double evaluate(Backend& be, const Mlp& m, const std::vector<Task>& tasks, int task, int eval_batch,
                int64_t* samples_seen = nullptr, double* loss = nullptr, const Predictor* predictor = nullptr);

}  // namespace clb
