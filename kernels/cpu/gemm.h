#pragma once
// Row-major single-precision GEMM for the CPU ops, C = alpha op(A) op(B) + beta C, with op(X) = X
// or X^T. One place chooses the library (results/cpu.md as of b7136cc times OpenBLAS against Eigen on the
// model's shapes); every call runs on the calling thread (data_parallel.h splits the work).
namespace clb::cpu {

void gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda, const float* B,
          int ldb, float beta, float* C, int ldc);

}  // namespace clb::cpu
