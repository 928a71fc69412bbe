#include "kernels/cpu/gemm.h"

#ifdef CLB_GEMM_EIGEN
#include <Eigen/Core>
#else
#include <cblas.h>
#endif

namespace clb::cpu {

#ifdef CLB_GEMM_EIGEN
void gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
          float beta, float* C, int ldc) {
  using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Map = Eigen::Map<const Mat, 0, Eigen::OuterStride<>>;
  Eigen::Map<Mat, 0, Eigen::OuterStride<>> c(C, M, N, Eigen::OuterStride<>(ldc));
  const Map a(A, ta ? K : M, ta ? M : K, Eigen::OuterStride<>(lda));
  const Map b(B, tb ? N : K, tb ? K : N, Eigen::OuterStride<>(ldb));
  if (beta == 0.0f) c.setZero(); else if (beta != 1.0f) c *= beta;
  if (!ta && !tb) c.noalias() += alpha * a * b;
  else if (!ta && tb) c.noalias() += alpha * a * b.transpose();
  else if (ta && !tb) c.noalias() += alpha * a.transpose() * b;
  else c.noalias() += alpha * a.transpose() * b.transpose();
}
#else
void gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
          float beta, float* C, int ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda,
              B, ldb, beta, C, ldc);
}
#endif

}  // namespace clb::cpu
