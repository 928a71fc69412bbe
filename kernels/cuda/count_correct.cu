// Correct predictions per test set (kernels/ops.h, CountCorrectArgs): one thread per row, an
// integer atomic per hit (exact and order-free, so deterministic). Reads 12 B per row.
//   v1 one thread per row (the only variant)
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cuda_ops.h"

namespace clb::cuda {

namespace {

__global__ void count_correct_kernel1(CountCorrectArgs a) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= a.B || a.argmax[i] != a.labels[i]) return;
  atomicAdd(reinterpret_cast<unsigned long long*>(a.hits + (a.groups ? a.groups[i] : 0)), 1ull);
}

}  // namespace

void count_correct(const CountCorrectArgs& a, cudaStream_t stream) {
  if (a.B <= 0) return;
  count_correct_kernel1<<<(a.B + 255) / 256, 256, 0, stream>>>(a);
  CLB_CUDA_CHECK_LAST();
}

}  // namespace clb::cuda
