#pragma once
// A loss a strategy adds on the network's outputs (distillation, iCaRL's sigmoid loss, DER++'s
// logit replay): called once per shard of a training batch after the forward pass, with the
// shard's rows, their logits, and the softmax cross-entropy the pass already put there (each
// row's loss and its derivative dloss/dlogits, unscaled). It may add to or replace both, row by
// row; the backward pass then carries delta down. The step's gradient is (1/total) * sum over the
// rows of their per-row gradients, so a term meant as a mean over fewer rows scales its rows by
// total/rows. Shards run concurrently on disjoint rows: the function writes only its own rows and
// `scratch` (one workspace per shard, the model's shape, for a second network's forward pass).
#include <cstdint>
#include <functional>

#include "framework/data/batch.h"
#include "framework/model/mlp_passes.h"

namespace clb {

struct OutputRows {
  Backend* be = nullptr;  // the step's backend (host memory), for a second network's passes
  int shard = 0;          // which concurrent shard (0 .. shards-1)
  int begin = 0;          // index of rows.x's first row in the whole batch
  int total = 0;          // rows in the whole batch
  int C = 0;              // outputs per row
  Batch rows;             // the shard's rows (x, y, class masks)
  const float* logits = nullptr;  // (rows.B, C)
  float* delta = nullptr;         // (rows.B, C): dloss_i/dlogits, to add to or replace
  float* loss = nullptr;          // (rows.B): loss_i
  MlpWorkspace* scratch = nullptr;
};

using OutputLoss = std::function<void(const OutputRows&)>;

}  // namespace clb
