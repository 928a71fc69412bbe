#pragma once
// Forward, backward and Fisher passes of an Mlp, composed from Backend ops. The passes work on
// pointers in backend memory (ModelView, PassBuffers), so the same code runs the host path and
// the device-resident engine; the Mlp/MlpWorkspace overloads are the host-memory conveniences.
#include <cstdint>
#include <vector>

#include "framework/backend/backend.h"
#include "framework/data/batch.h"
#include "framework/model/mlp.h"

namespace clb {

// A model's flat parameters (Mlp::params layout) wherever they live.
struct ModelView {
  const MlpArch* arch = nullptr;
  const float* params = nullptr;
  const float* W(int l) const { return params + arch->weight_offset(l); }
  const float* b(int l) const { return params + arch->bias_offset(l); }
};
inline ModelView view(const Mlp& m) { return {&m.arch, m.params.data()}; }

// The buffers of one pass, as pointers: act[l+1] = output of layer l, (B, out(l)) (act[0] unused);
// delta[l+1] = dLoss/dz of layer l, (B*K, out(l)); probs (B, C); loss, argmax (B).
struct PassBuffers {
  std::vector<float*> act, delta;
  float* probs = nullptr;
  float* loss = nullptr;
  int32_t* argmax = nullptr;
  int max_rows = 0, rows_per_sample = 1;
};

// Host buffers for one pass at up to max_rows samples (x K stacked rows for the Fisher deltas).
struct MlpWorkspace {
  MlpWorkspace(const MlpArch& arch, int max_rows, int rows_per_sample = 1);
  int max_rows, rows_per_sample;
  std::vector<std::vector<float>> act;    // act[l+1] = output of layer l, (B, out(l)); act[0] unused
  std::vector<std::vector<float>> delta;  // delta[l+1] = dLoss/dz of layer l, (B*K, out(l))
  std::vector<float> probs, loss;         // (B, C), (B)
  std::vector<int32_t> argmax;            // (B)
  PassBuffers buffers();
};

// Forward to the logits (act.back()), softmax + argmax (+ loss and output delta if labels).
void forward(Backend& be, const ModelView& m, const Batch& b, const PassBuffers& ws);
// Backpropagates delta.back() (K rows per sample) down to every layer's delta.
void backprop_deltas(Backend& be, const ModelView& m, const Batch& b, const PassBuffers& ws, int rows_per_sample);
// grad = scale * sum_i (per-sample gradient of sample i), into grad (num_params); scale 0 means
// 1/B. Leaves the per-sample losses in ws.loss.
void gradients(Backend& be, const ModelView& m, const Batch& b, const PassBuffers& ws, float* grad, float scale);
// The second half of gradients(): from the output delta a forward pass left (and a strategy's
// output loss may have changed, framework/model/output_loss.h) to grad.
void gradients_from_delta(Backend& be, const ModelView& m, const Batch& b, const PassBuffers& ws, float* grad,
                          float scale);

void forward(Backend& be, const Mlp& m, const Batch& b, MlpWorkspace& ws);
void backprop_deltas(Backend& be, const Mlp& m, const Batch& b, MlpWorkspace& ws, int rows_per_sample);
// gradients() on host memory, returning the sum of the per-sample losses.
double compute_gradients(Backend& be, const Mlp& m, const Batch& b, MlpWorkspace& ws, float* grad, float scale = 0);

// Rows [begin, end) of a batch, as a batch.
Batch slice(const Batch& b, int begin, int end, int input_dim, int num_outputs);

}  // namespace clb
