#include <cstddef>
#include <vector>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/gemm.h"

namespace clb::cpu {

// Squared-operand trick (README, "The math"): one sgemm of 2*B*n_in*n_out FLOPs on squared copies of
// the operands. BLAS cannot square while it loads, so the squares go to scratch first: B*(n_in +
// n_out) floats, small next to the GEMM's reads of n_in*n_out.
void fisher_diag(const FisherDiagArgs& a) {
  thread_local std::vector<float> s_sq, x_sq;
  const int K = a.rows_per_sample;
  s_sq.assign(std::size_t(a.B) * a.n_out, 0.0f);
  x_sq.resize(std::size_t(a.B) * a.n_in);
  for (int i = 0; i < a.B; ++i) {
    float* s = s_sq.data() + int64_t(i) * a.n_out;
    for (int k = 0; k < K; ++k) {
      const float* d = a.delta + (int64_t(i) * K + k) * a.n_out;
      for (int o = 0; o < a.n_out; ++o) s[o] += d[o] * d[o];
    }
  }
  const int64_t nx = int64_t(a.B) * a.n_in;
  for (int64_t j = 0; j < nx; ++j) x_sq[j] = a.X[j] * a.X[j];
  gemm(true, false, a.n_out, a.n_in, a.B, a.scale, s_sq.data(), a.n_out,
              x_sq.data(), a.n_in, 1.0f, a.FW, a.n_in);
  for (int i = 0; i < a.B; ++i) {
    const float* s = s_sq.data() + int64_t(i) * a.n_out;
    for (int o = 0; o < a.n_out; ++o) a.Fb[o] += a.scale * s[o];
  }
}

}  // namespace clb::cpu
