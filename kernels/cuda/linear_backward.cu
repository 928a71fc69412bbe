// Linear backward: dX = (dY W) o 1[X > 0] (rows_per_sample K), dW = scale dY^T X, db = scale colsum(dY).
// Each GEMM 2*B*n_in*n_out FLOPs; db reads B*n_out floats once.
#include <cublas_v2.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/gemm_tiles.cuh"
#include "kernels/cuda/reductions.cuh"

namespace clb::cuda {

namespace {

__global__ void relu_mask_kernel(float* dX, const float* X, int rows, int n_in, int K) {
  const int64_t n = int64_t(rows) * n_in;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = i / n_in, j = i % n_in;
    if (!(X[(r / K) * n_in + j] > 0.0f)) dX[i] = 0.0f;
  }
}

}  // namespace

void linear_backward(const LinearBackwardArgs& a, int variant, cudaStream_t stream) {
  const int K = a.rows_per_sample, R = a.B * K;
  if (variant == 0) {
    auto h = static_cast<cublasHandle_t>(cublas_handle(stream));
    const float one = 1.0f, zero = 0.0f;
    if (a.dW)  // row-major dW (n_out, n_in) = dY^T X  <=>  column-major dW^T (n_in, n_out) = X^T dY
      CLB_CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_T, a.n_in, a.n_out, a.B, &a.scale, a.X, a.n_in, a.dY,
                                   a.n_out, &zero, a.dW, a.n_in));
    if (a.dX) {  // row-major dX (R, n_in) = dY W  <=>  column-major dX^T = W^T dY^T
      CLB_CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, a.n_in, R, a.n_out, &one, a.W, a.n_in, a.dY, a.n_out,
                                   &zero, a.dX, a.n_in));
      if (a.relu_mask) {
        const int64_t n = int64_t(R) * a.n_in;
        relu_mask_kernel<<<grid_for(n), 256, 0, stream>>>(a.dX, a.X, R, a.n_in, K);
      }
    }
  } else {
    if (a.dW)  // A(o, i) = dY[i][o] (transposed), B(i, j) = X[i][j]
      gemm::launch(variant, a.n_out, a.n_in, a.B, gemm::Dense<true>{a.dY, a.n_out}, gemm::Dense<false>{a.X, a.n_in},
                   gemm::Store{a.dW, a.n_in, a.scale, 0.0f}, stream);
    if (a.dX)  // A(r, o) = dY[r][o], B(o, j) = W[o][j]
      gemm::launch(variant, R, a.n_in, a.n_out, gemm::Dense<false>{a.dY, a.n_out}, gemm::Dense<false>{a.W, a.n_in},
                   gemm::ReluMask{a.dX, a.n_in, a.relu_mask ? a.X : nullptr, K}, stream);
  }
  if (a.db) column_sum<false>(a.dY, a.B, a.n_out, a.scale, /*accumulate=*/false, a.db, stream);
  CLB_CUDA_CHECK_LAST();
}

}  // namespace clb::cuda
