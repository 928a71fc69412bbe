#pragma once
// A float64 oracle for the MLP: explicit per-sample forward and backward, no BLAS, no tricks.
// Tests compare the float32 product code against it.
#include <cmath>
#include <vector>

#include "framework/model/mlp.h"

namespace clb::test {

struct RefSample {
  std::vector<std::vector<double>> act;  // act[0] = input, act[l+1] = output of layer l (logits last)
  std::vector<double> probs;
};

inline RefSample ref_forward(const Mlp& m, const float* x, const uint8_t* mask = nullptr) {
  const int L = m.arch.num_layers();
  RefSample s;
  s.act.resize(L + 1);
  s.act[0].assign(x, x + m.arch.input_dim());
  for (int l = 0; l < L; ++l) {
    s.act[l + 1].assign(m.arch.out(l), 0.0);
    for (int o = 0; o < m.arch.out(l); ++o) {
      double z = m.b(l)[o];
      for (int i = 0; i < m.arch.in(l); ++i) z += double(m.W(l)[int64_t(o) * m.arch.in(l) + i]) * s.act[l][i];
      s.act[l + 1][o] = (l + 1 < L) ? std::max(z, 0.0) : z;
    }
  }
  const auto& z = s.act[L];
  double zmax = -1e300, sum = 0;
  for (size_t c = 0; c < z.size(); ++c)
    if (!mask || mask[c]) zmax = std::max(zmax, z[c]);
  for (size_t c = 0; c < z.size(); ++c)
    if (!mask || mask[c]) sum += std::exp(z[c] - zmax);
  s.probs.assign(z.size(), 0.0);
  for (size_t c = 0; c < z.size(); ++c)
    if (!mask || mask[c]) s.probs[c] = std::exp(z[c] - zmax) / sum;
  return s;
}

inline double ref_loss(const Mlp& m, const float* x, int y, const uint8_t* mask = nullptr) {
  return -std::log(ref_forward(m, x, mask).probs[y]);
}

// Gradient (flat, num_params) of the loss whose output delta is `d_out` (e.g. p - e_y).
inline std::vector<double> ref_backward(const Mlp& m, const RefSample& s, std::vector<double> delta) {
  const int L = m.arch.num_layers();
  std::vector<double> g(size_t(m.arch.num_params()), 0.0);
  for (int l = L - 1; l >= 0; --l) {
    const int n_in = m.arch.in(l), n_out = m.arch.out(l);
    for (int o = 0; o < n_out; ++o) {
      g[m.arch.bias_offset(l) + o] = delta[o];
      for (int i = 0; i < n_in; ++i) g[m.arch.weight_offset(l) + int64_t(o) * n_in + i] = delta[o] * s.act[l][i];
    }
    if (l == 0) break;
    std::vector<double> below(n_in, 0.0);
    for (int i = 0; i < n_in; ++i) {
      for (int o = 0; o < n_out; ++o) below[i] += delta[o] * double(m.W(l)[int64_t(o) * n_in + i]);
      if (s.act[l][i] <= 0.0) below[i] = 0.0;
    }
    delta = below;
  }
  return g;
}

// Per-sample gradient of -log p_label.
inline std::vector<double> ref_sample_grad(const Mlp& m, const float* x, int label, const uint8_t* mask = nullptr) {
  RefSample s = ref_forward(m, x, mask);
  std::vector<double> d = s.probs;
  d[label] -= 1.0;
  return ref_backward(m, s, d);
}

}  // namespace clb::test
