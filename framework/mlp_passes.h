#pragma once
// Forward, backward and Fisher passes of an Mlp, composed from Backend ops.
#include <cstdint>
#include <vector>

#include "framework/backend.h"
#include "framework/mlp.h"

namespace clb {

// A minibatch: B rows of features, labels and (task-IL) per-row class masks.
struct Batch {
  const float* x = nullptr;           // (B, input_dim)
  const int32_t* y = nullptr;         // (B) or null
  const uint8_t* class_mask = nullptr;  // (B, num_outputs) or null
  int B = 0;
};

// Buffers for one pass at up to max_rows samples (x K stacked rows for the Fisher deltas).
struct MlpWorkspace {
  MlpWorkspace(const MlpArch& arch, int max_rows, int rows_per_sample = 1);
  int max_rows, rows_per_sample;
  std::vector<std::vector<float>> act;    // act[l+1] = output of layer l, (B, out(l)); act[0] unused
  std::vector<std::vector<float>> delta;  // delta[l+1] = dLoss/dz of layer l, (B*K, out(l))
  std::vector<float> probs, loss;         // (B, C), (B)
  std::vector<int32_t> argmax;            // (B)
};

// Forward to the logits (ws.act.back()), softmax + argmax (+ loss and output delta if labels).
void forward(Backend& be, const Mlp& m, const Batch& b, MlpWorkspace& ws);

// Backpropagates ws.delta.back() (K rows per sample) down to every layer's delta.
void backprop_deltas(Backend& be, const Mlp& m, const Batch& b, MlpWorkspace& ws, int rows_per_sample);

// grad = scale * sum_i (per-sample gradient of sample i), into grad (num_params); scale 0 means
// 1/B (the batch-mean gradient). Returns the sum of the per-sample losses.
double compute_gradients(Backend& be, const Mlp& m, const Batch& b, MlpWorkspace& ws, float* grad, float scale = 0);

// Rows [begin, end) of a batch, as a batch.
Batch slice(const Batch& b, int begin, int end, int input_dim, int num_outputs);

}  // namespace clb
