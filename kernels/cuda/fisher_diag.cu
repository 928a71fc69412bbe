// Diagonal Fisher from squared operands: F_W += scale S^T (X o X), F_b += scale colsum(S), with
// S_i = sum_k delta_{i,k}^2 (K stacked rows per sample). 2*B*n_in*n_out FLOPs plus K*B*n_out for S.
// Variants 1-3 square while loading (gemm_tiles.cuh operands): no squared copies in memory.
// Variant 0 (cuBLAS) squares into scratch first: the yard-stick, not the product path.
#include <cublas_v2.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/gemm_tiles.cuh"
#include "kernels/cuda/reductions.cuh"

namespace clb::cuda {

namespace {

__global__ void squared_rows_kernel(const float* delta, int B, int K, int n_out, float* S) {
  const int64_t n = int64_t(B) * n_out;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = e / n_out, o = e % n_out;
    float s = 0.0f;
    for (int k = 0; k < K; ++k) {
      const float v = delta[(i * K + k) * n_out + o];
      s += v * v;
    }
    S[e] = s;
  }
}

__global__ void square_kernel(const float* x, int64_t n, float* out) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n; e += int64_t(gridDim.x) * blockDim.x)
    out[e] = x[e] * x[e];
}


}  // namespace

void fisher_diag(const FisherDiagArgs& a, int variant, cudaStream_t stream) {
  const int K = a.rows_per_sample;
  if (variant == 0) {
    // Scratch for S (B, n_out) and X o X (B, n_in): stream-ordered, freed when the stream gets there.
    float *S = nullptr, *X2 = nullptr;
    CLB_CUDA_CHECK(cudaMallocAsync(&S, sizeof(float) * size_t(a.B) * a.n_out, stream));
    CLB_CUDA_CHECK(cudaMallocAsync(&X2, sizeof(float) * size_t(a.B) * a.n_in, stream));
    squared_rows_kernel<<<grid_for(int64_t(a.B) * a.n_out), 256, 0, stream>>>(a.delta, a.B, K, a.n_out, S);
    square_kernel<<<grid_for(int64_t(a.B) * a.n_in), 256, 0, stream>>>(a.X, int64_t(a.B) * a.n_in, X2);
    auto h = static_cast<cublasHandle_t>(cublas_handle(stream));
    const float one = 1.0f;
    CLB_CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_T, a.n_in, a.n_out, a.B, &a.scale, X2, a.n_in, S, a.n_out,
                                 &one, a.FW, a.n_in));
    CLB_CUDA_CHECK(cudaFreeAsync(S, stream));
    CLB_CUDA_CHECK(cudaFreeAsync(X2, stream));
  } else {
    gemm::launch(variant, a.n_out, a.n_in, a.B, gemm::SumSquaredRows{a.delta, a.n_out, K},
                 gemm::Dense<false, true>{a.X, a.n_in}, gemm::Store{a.FW, a.n_in, a.scale, 1.0f}, stream);
  }
  // F_b += scale * sum over all B*K delta rows of delta^2 (the K rows of a sample add up too).
  column_sum<true>(a.delta, a.B * K, a.n_out, a.scale, /*accumulate=*/true, a.Fb, stream);
  CLB_CUDA_CHECK_LAST();
}

}  // namespace clb::cuda
