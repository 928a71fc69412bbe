#include <cmath>
#include <limits>

#include "kernels/cpu/cpu_ops.h"

namespace clb::cpu {

// Per row: max-shifted softmax over the allowed classes (float, C is small), loss = lse - z_y.
void softmax_xent(const SoftmaxXentArgs& a) {
  for (int i = 0; i < a.B; ++i) {
    const float* z = a.logits + int64_t(i) * a.C;
    const uint8_t* mask = a.class_mask ? a.class_mask + int64_t(i) * a.C : nullptr;
    auto allowed = [&](int c) { return mask == nullptr || mask[c] != 0; };
    float zmax = -std::numeric_limits<float>::infinity();
    int best = -1;
    for (int c = 0; c < a.C; ++c)
      if (allowed(c) && (best < 0 || z[c] > zmax)) zmax = z[c], best = c;
    double sum = 0.0;
    for (int c = 0; c < a.C; ++c)
      if (allowed(c)) sum += std::exp(double(z[c] - zmax));
    const double log_sum = std::log(sum);
    if (a.argmax) a.argmax[i] = best;
    float* p = a.probs ? a.probs + int64_t(i) * a.C : nullptr;
    float* d = (a.labels && a.delta) ? a.delta + int64_t(i) * a.C : nullptr;
    for (int c = 0; c < a.C; ++c) {
      const float pc = allowed(c) ? float(std::exp(double(z[c] - zmax) - log_sum)) : 0.0f;
      if (p) p[c] = pc;
      if (d) d[c] = pc;
    }
    if (a.labels) {
      const int y = a.labels[i];
      if (d) d[y] -= 1.0f;
      if (a.loss) a.loss[i] = float(log_sum - double(z[y] - zmax));
    }
  }
}

}  // namespace clb::cpu
