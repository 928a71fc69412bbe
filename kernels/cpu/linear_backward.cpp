#include <stdexcept>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/gemm.h"

namespace clb::cpu {

// dW and dX are one sgemm each (2*B*n_in*n_out FLOPs); db and the ReLU mask are single passes.
void linear_backward(const LinearBackwardArgs& a) {
  const int K = a.rows_per_sample;
  const int R = a.B * K;
  if ((a.dW || a.db) && K != 1) throw std::invalid_argument("linear_backward: weight gradients need one row per sample (K == 1)");
  if (a.dW)
    gemm(true, false, a.n_out, a.n_in, a.B, a.scale, a.dY, a.n_out,
                a.X, a.n_in, 0.0f, a.dW, a.n_in);
  if (a.db) {
    for (int o = 0; o < a.n_out; ++o) a.db[o] = 0.0f;
    for (int i = 0; i < a.B; ++i) {
      const float* row = a.dY + int64_t(i) * a.n_out;
      for (int o = 0; o < a.n_out; ++o) a.db[o] += row[o];
    }
    for (int o = 0; o < a.n_out; ++o) a.db[o] *= a.scale;
  }
  if (a.dX) {
    gemm(false, false, R, a.n_in, a.n_out, 1.0f, a.dY, a.n_out, a.W,
                a.n_in, 0.0f, a.dX, a.n_in);
    if (a.relu_mask) {
      for (int r = 0; r < R; ++r) {
        const float* x = a.X + int64_t(r / K) * a.n_in;
        float* dx = a.dX + int64_t(r) * a.n_in;
        for (int j = 0; j < a.n_in; ++j) dx[j] = x[j] > 0.0f ? dx[j] : 0.0f;
      }
    }
  }
}

}  // namespace clb::cpu
