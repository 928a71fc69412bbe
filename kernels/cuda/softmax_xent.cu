// Softmax cross-entropy, one warp per row: max and argmax over the allowed classes, the log of the
// sum of exponentials, then probs, delta = p - onehot(y) and the loss, in one pass over the row.
// Reads B*C logits (+ mask), writes up to 2*B*C + 2*B values: bandwidth-bound, tiny.
#include <cfloat>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cuda_ops.h"

namespace clb::cuda {

namespace {

__global__ void softmax_xent_kernel1(SoftmaxXentArgs a) {
  const int warps_per_block = blockDim.x / 32;
  const int row = blockIdx.x * warps_per_block + threadIdx.x / 32, lane = threadIdx.x % 32;
  if (row >= a.B) return;
  const float* z = a.logits + int64_t(row) * a.C;
  const uint8_t* mask = a.class_mask ? a.class_mask + int64_t(row) * a.C : nullptr;
  // Max with the smallest index on ties (what the CPU twin's first-strictly-greater scan gives).
  float best = -FLT_MAX;
  int best_c = a.C;
  for (int c = lane; c < a.C; c += 32)
    if ((mask == nullptr || mask[c]) && (z[c] > best || best_c == a.C)) best = z[c], best_c = c;
  for (int off = 16; off > 0; off /= 2) {
    const float ov = __shfl_xor_sync(0xffffffffu, best, off);
    const int oc = __shfl_xor_sync(0xffffffffu, best_c, off);
    if (oc < a.C && (best_c == a.C || ov > best || (ov == best && oc < best_c))) best = ov, best_c = oc;
  }
  float sum = 0.0f;
  for (int c = lane; c < a.C; c += 32)
    if (mask == nullptr || mask[c]) sum += expf(z[c] - best);
  for (int off = 16; off > 0; off /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, off);
  const float log_sum = logf(sum);
  const bool labelled = a.labels != nullptr;
  const int y = labelled ? a.labels[row] : -1;
  for (int c = lane; c < a.C; c += 32) {
    const float p = (mask == nullptr || mask[c]) ? expf(z[c] - best - log_sum) : 0.0f;
    if (a.probs) a.probs[int64_t(row) * a.C + c] = p;
    if (labelled && a.delta) a.delta[int64_t(row) * a.C + c] = p - (c == y ? 1.0f : 0.0f);
  }
  if (lane == 0) {
    if (a.argmax) a.argmax[row] = best_c == a.C ? -1 : best_c;  // -1: no class allowed (the CPU twin's answer)
    if (labelled && a.loss) a.loss[row] = log_sum - (z[y] - best);
  }
}

}  // namespace

void softmax_xent(const SoftmaxXentArgs& a, int variant, cudaStream_t stream) {
  (void)variant;  // one variant so far
  if (a.B <= 0) return;
  constexpr int kWarps = 8;
  softmax_xent_kernel1<<<(a.B + kWarps - 1) / kWarps, 32 * kWarps, 0, stream>>>(a);
  CLB_CUDA_CHECK_LAST();
}

}  // namespace clb::cuda
