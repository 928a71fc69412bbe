#pragma once
// A training step a strategy shapes beyond train_next_with_memory's two uses (host engine only,
// EngineConfig::planned_steps): rows joined to the batch, a loss on the outputs beside
// cross-entropy (LwF, iCaRL, DER++), reference batches whose gradients the step's gradient is
// edited against (GEM's projection), the parameters edited before the step (PackNet's pruning).
#include <cstdint>
#include <functional>
#include <vector>

#include "framework/data/batch.h"
#include "framework/model/output_loss.h"

namespace clb {

struct StepPlan {
  // Rows (host memory) joined after the batch's rows: one step over both.
  const Batch* join = nullptr;
  // A loss on the outputs of the (joined) batch's rows, null: cross-entropy alone.
  const OutputLoss* loss = nullptr;
  // Batches whose mean-loss gradients edit_gradient receives, in this order.
  std::vector<const Batch*> references;
  // Edits the step's gradient (n floats, its loss's, the penalty not included) before the update;
  // ref_grads: the references' gradients. Null: the gradient as it is.
  std::function<void(float* grad, const std::vector<const float*>& ref_grads, int64_t n)> edit_gradient;
  // Edits the parameters before the step (n floats). Null: none.
  std::function<void(float* params, int64_t n)> edit_params;
  // The optimizer's state and step count start afresh before the step (after edit_params).
  bool restart_optimizer = false;
};

}  // namespace clb
