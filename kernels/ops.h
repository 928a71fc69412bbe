#pragma once
// The op contract shared by the CPU twins (kernels/cpu/<op>.cpp), the reference, and the CUDA
// kernels (kernels/cuda/<op>.cu): one plain args struct per op (docs/DESIGN.md §4). Plain C++, no CUDA types, so the CPU
// build never needs nvcc. Pointers are backend memory (framework/backend/backend.h): host memory for the
// CPU backend, device memory for CUDA.
// Matrices are row-major; a batch matrix has one row per sample. Weights use PyTorch's nn.Linear
// layout (out, in), so checkpoints load into PyTorch as they are.
#include <cstdint>

namespace clb {

// y = x W^T + b, optionally followed by ReLU.  2*B*n_in*n_out FLOPs.
struct LinearForwardArgs {
  const float* x = nullptr;  // (B, n_in)
  const float* W = nullptr;  // (n_out, n_in)
  const float* b = nullptr;  // (n_out)
  float* y = nullptr;        // (B, n_out)
  int B = 0, n_in = 0, n_out = 0;
  bool relu = false;
};

// Row-wise softmax cross-entropy. delta = softmax - onehot(label), per sample (NOT divided by B).
// A class mask (task-IL logit masking) excludes masked-out classes from the softmax: their prob
// and delta are 0. Labels may be null (inference): then loss/delta are not written.
struct SoftmaxXentArgs {
  const float* logits = nullptr;      // (B, C)
  const int32_t* labels = nullptr;    // (B) or null
  const uint8_t* class_mask = nullptr;  // (B, C), 1 = class allowed; null = all allowed
  float* probs = nullptr;             // (B, C) or null
  float* delta = nullptr;             // (B, C) or null
  float* loss = nullptr;              // (B) per-sample -log p_y, or null
  int32_t* argmax = nullptr;          // (B) or null; argmax over allowed classes
  int B = 0, C = 0;
};

// Backward of one linear layer given dY (rows = samples, or samples x K stacked rows, see below).
//   dW = scale * dY^T X,  db = scale * colsum(dY)        (if dW/db non-null; overwritten)
//   dX = (dY W) * 1[X > 0]  (mask only if relu_mask)      (if dX non-null; overwritten)
// X's rows may be shared by K consecutive rows of dY (rows_per_sample = K): the exact and sampled
// Fisher backpropagate K output deltas per sample through the same activations.
struct LinearBackwardArgs {
  const float* dY = nullptr;  // (B*K, n_out)
  const float* X = nullptr;   // (B, n_in): this layer's input activation
  const float* W = nullptr;   // (n_out, n_in)
  float* dW = nullptr;        // (n_out, n_in) or null; needs K == 1
  float* db = nullptr;        // (n_out) or null; needs K == 1
  float* dX = nullptr;        // (B*K, n_in) or null
  int B = 0, n_in = 0, n_out = 0;
  int rows_per_sample = 1;  // K
  float scale = 1.0f;
  bool relu_mask = false;  // multiply dX by 1[X > 0] (X = relu output of the layer below)
};

// Diagonal Fisher from squared operands (README, "The math"), accumulated:
//   S_i    = sum_k delta_{i,k} o delta_{i,k}            (over the K rows of sample i)
//   F_W   += scale * S^T (X o X),  F_b += scale * colsum(S)
// This is sum_i g_i o g_i for the per-sample gradients g_i = delta_i x_i^T, without forming g_i.
struct FisherDiagArgs {
  const float* delta = nullptr;  // (B*K, n_out)
  const float* X = nullptr;      // (B, n_in)
  float* FW = nullptr;           // (n_out, n_in), accumulated
  float* Fb = nullptr;           // (n_out), accumulated
  int B = 0, n_in = 0, n_out = 0;
  int rows_per_sample = 1;
  float scale = 1.0f;
};

enum class Optimizer : int { kSgd = 0, kMomentum = 1, kAdam = 2 };

// One fused pass over the parameters: quadratic penalty gradient + optimizer step. Every strategy's
// update (no penalty: F null); named ewc_update until the redesign (issue 10), as in results/cpu.md's rows.
//   g' = g + lambda * F o (theta - anchor)        (F, anchor null: no penalty)
//   sgd:      theta -= lr * g'
//   momentum: m = mu*m + g';  theta -= lr * m
//   adam:     m = b1*m + (1-b1) g';  v = b2*v + (1-b2) g'^2;  theta -= lr * mhat / (sqrt(vhat) + eps)
// Bytes per param: 20 (sgd with penalty), +8 momentum, +16 adam (read and written once each).
struct FusedUpdateArgs {
  float* theta = nullptr;         // (n)
  const float* grad = nullptr;    // (n)
  const float* fisher = nullptr;  // (n) or null
  const float* anchor = nullptr;  // (n) or null
  float* m = nullptr;             // (n) momentum / Adam first moment, or null for sgd
  float* v = nullptr;             // (n) Adam second moment, or null
  int64_t n = 0;
  Optimizer opt = Optimizer::kSgd;
  float lr = 0.01f, lambda = 0.0f;
  float momentum = 0.9f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  int64_t step = 1;  // Adam bias correction, counted from 1
  // If set (backend memory), the step is *steps_done + 1 and `step` is ignored: a recorded
  // training step (a CUDA graph) replays with fixed arguments while the count advances.
  const int64_t* steps_done = nullptr;
  // If set (backend memory) and there is a penalty: receives the penalty before the step,
  // (1/2) sum F o (theta - anchor)^2 in double (times lambda: the loss term), reduced in the same
  // pass. The CUDA kernels need penalty_scratch, kPenaltyPartials doubles of backend memory, for
  // their fixed-order (deterministic) two-stage sum.
  double* penalty_value = nullptr;
  double* penalty_scratch = nullptr;
};
constexpr int kPenaltyPartials = 1024;

// Builds a minibatch from data resident in backend memory: every data set's features stacked
// into one table, each sample named by a table row and a task (whose pixel map and class mask
// apply). x[i][j] = map[j] < 0 ? 0 : table[row_i][map[j]] with the sample's task's map.
// Image data stays in bytes (a quarter of the memory and of the bytes a gather reads): with
// table8 set, a feature is byte / 255.0f, computed here exactly as the IDX loader once stored it,
// so a run on bytes is bitwise the run on their float copy.
struct GatherArgs {
  const float* table = nullptr;          // (rows, dim) features, or null when table8 is set
  const uint8_t* table8 = nullptr;       // (rows, dim) bytes, feature = byte / 255.0f; or null
  const int32_t* labels = nullptr;       // (rows)
  const int32_t* rows = nullptr;         // (>= offset + B) table row of each sample
  const int32_t* tasks = nullptr;        // (>= offset + B) task of each sample
  const int32_t* pixel_maps = nullptr;   // (T, dim) or null (identity for every task)
  const uint8_t* class_masks = nullptr;  // (T, C) or null (all classes allowed)
  // If set (backend memory), samples start at rows[*offset], tasks[*offset]; else at 0.
  const int64_t* offset = nullptr;
  float* x = nullptr;     // (B, dim)
  int32_t* y = nullptr;   // (B)
  uint8_t* mask = nullptr;  // (B, C); written only when class_masks is set
  int B = 0, dim = 0, C = 0;
};

// hits[group_i] += (argmax_i == label_i): correct predictions per test set, integer counts.
struct CountCorrectArgs {
  const int32_t* argmax = nullptr;  // (B)
  const int32_t* labels = nullptr;  // (B)
  const int32_t* groups = nullptr;  // (B) test set of each row, or null (all in group 0)
  int64_t* hits = nullptr;          // (number of groups), accumulated
  int B = 0;
};

// Counters of a training loop kept in backend memory, so a recorded step replays unchanged.
struct StepCounters {
  int64_t steps_done = 0;  // optimizer steps in this task (Adam's bias correction)
  int64_t offset = 0;      // first sample of the next minibatch in the epoch's order
  int64_t logged = 0;      // entries of the loss log written
};

// Ends a training step: loss_log[logged] = mean of loss[0, B) (summed in double; the CPU twin in
// row order, the CUDA kernel as a tree),
// then logged += 1, offset += B, steps_done += 1.
struct AdvanceStepArgs {
  StepCounters* counters = nullptr;
  const float* loss = nullptr;  // (B) per-sample losses of the step
  double* loss_log = nullptr;   // (capacity); the caller reads and resets it before it fills
  int B = 0;
};

}  // namespace clb
