// End of a training step (kernels/ops.h, AdvanceStepArgs): the mean loss into the log and the
// StepCounters advanced, on the device, so a recorded step (a CUDA graph) replays unchanged.
// One block: a fixed-shape tree sum in double (deterministic; its order differs from the CPU
// twin's row-order sum by float64 rounding only, ~1e-16 relative).
//   v1 one block of 256 threads (the only variant)
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cuda_ops.h"

namespace clb::cuda {

namespace {

constexpr int kThreads = 256;

__global__ void advance_step_kernel1(AdvanceStepArgs a) {
  __shared__ double part[kThreads];
  double s = 0.0;
  for (int i = threadIdx.x; i < a.B; i += kThreads) s += double(a.loss[i]);
  part[threadIdx.x] = s;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) part[threadIdx.x] += part[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    StepCounters& c = *a.counters;
    a.loss_log[c.logged] = part[0] / a.B;
    c.logged += 1;
    c.offset += a.B;
    c.steps_done += 1;
  }
}

}  // namespace

void advance_step(const AdvanceStepArgs& a, cudaStream_t stream) {
  advance_step_kernel1<<<1, kThreads, 0, stream>>>(a);
  CLB_CUDA_CHECK_LAST();
}

}  // namespace clb::cuda
