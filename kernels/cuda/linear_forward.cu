// Linear forward y = x W^T + b (+ ReLU). 2*B*n_in*n_out FLOPs; variants in kernels/cuda/cuda_ops.h.
#include <cublas_v2.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/gemm_tiles.cuh"
#include "kernels/cuda/reductions.cuh"

namespace clb::cuda {

namespace {

// cuBLAS variant's epilogue: one pass over y (B*n_out*8 bytes).
__global__ void bias_relu_kernel(float* y, const float* b, int B, int n_out, bool relu) {
  const int64_t n = int64_t(B) * n_out;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float v = y[i] + b[i % n_out];
    y[i] = relu ? fmaxf(v, 0.0f) : v;
  }
}

}  // namespace

void linear_forward(const LinearForwardArgs& a, int variant, cudaStream_t stream) {
  if (variant == 0) {
    // Row-major y (B, n_out) = x (B, n_in) W^T is column-major y^T (n_out, B) = W x^T.
    auto h = static_cast<cublasHandle_t>(cublas_handle(stream));
    const float one = 1.0f, zero = 0.0f;
    CLB_CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, a.n_out, a.B, a.n_in, &one, a.W, a.n_in, a.x, a.n_in,
                                 &zero, a.y, a.n_out));
    bias_relu_kernel<<<grid_for(int64_t(a.B) * a.n_out), 256, 0, stream>>>(a.y, a.b, a.B, a.n_out, a.relu);
  } else {
    // A = x (B x n_in, k contiguous), B(k, n) = W[n][k]: W read transposed.
    gemm::launch(variant, a.B, a.n_out, a.n_in, gemm::Dense<false>{a.x, a.n_in}, gemm::Dense<true>{a.W, a.n_in},
                 gemm::BiasRelu{a.y, a.n_out, a.b, a.relu}, stream);
  }
  CLB_CUDA_CHECK_LAST();
}

}  // namespace clb::cuda
