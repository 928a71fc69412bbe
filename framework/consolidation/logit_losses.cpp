#include "framework/consolidation/logit_losses.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace clb {

namespace {

// log(1 + e^x) without overflow.
double softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

// log softmax(v / T) over the group, into out (n).
void log_softmax(const float* v, const int32_t* group, int n, double T, std::vector<double>& out) {
  out.resize(size_t(n));
  double vmax = -INFINITY;
  for (int k = 0; k < n; ++k) vmax = std::max(vmax, double(v[group[k]]) / T);
  double sum = 0;
  for (int k = 0; k < n; ++k) sum += std::exp(double(v[group[k]]) / T - vmax);
  const double lse = vmax + std::log(sum);
  for (int k = 0; k < n; ++k) out[size_t(k)] = double(v[group[k]]) / T - lse;
}

}  // namespace

double distillation(const float* z, const float* z_old, const int32_t* group, int n, float T, float weight,
                    float* grad) {
  thread_local std::vector<double> log_p, log_q;
  log_softmax(z, group, n, T, log_p);
  log_softmax(z_old, group, n, T, log_q);
  double loss = 0;
  for (int k = 0; k < n; ++k) {
    const double q = std::exp(log_q[size_t(k)]), p = std::exp(log_p[size_t(k)]);
    loss += q * (log_q[size_t(k)] - log_p[size_t(k)]);
    grad[group[k]] += float(double(weight) * T * (p - q));
  }
  return double(weight) * T * T * loss;
}

double sigmoid_bce(const float* z, const float* target, const uint8_t* mask, int C, float weight, float* grad) {
  double loss = 0;
  for (int c = 0; c < C; ++c) {
    if (mask && !mask[c]) continue;
    const double x = z[c], t = target[c];
    loss += t * softplus(-x) + (1 - t) * softplus(x);  // -log s = softplus(-x), -log(1 - s) = softplus(x)
    grad[c] += float(double(weight) * (1 / (1 + std::exp(-x)) - t));
  }
  return double(weight) * loss;
}

double logit_mse(const float* z, const float* z_star, int C, float weight, float* grad) {
  double loss = 0;
  for (int c = 0; c < C; ++c) {
    const double d = double(z[c]) - double(z_star[c]);
    loss += d * d;
    grad[c] += float(double(weight) * 2 * d / C);
  }
  return double(weight) * loss / C;
}

}  // namespace clb
