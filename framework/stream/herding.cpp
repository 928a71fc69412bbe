#include "framework/stream/herding.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "framework/core/error.h"

namespace clb {

void l2_normalize_rows(float* x, int64_t n, int dim) {
  CLB_ASSERT(n >= 0 && dim >= 1);
  CLB_ASSERT(n == 0 || x != nullptr);
  for (int64_t i = 0; i < n; ++i) {
    float* row = x + i * dim;
    double sq = 0;
    for (int j = 0; j < dim; ++j) sq += double(row[j]) * row[j];
    if (sq == 0) continue;
    const double inv = 1.0 / std::sqrt(sq);
    for (int j = 0; j < dim; ++j) row[j] = float(row[j] * inv);
  }
}

std::vector<int32_t> herding_select(const float* features, int64_t n, int dim, int m) {
  CLB_ASSERT(n >= 0 && dim >= 1 && m >= 0);
  CLB_ASSERT(n <= std::numeric_limits<int32_t>::max());  // picks are int32 row indices
  CLB_ASSERT(n == 0 || features != nullptr);
  const int64_t picks = std::min<int64_t>(m, n);
  std::vector<int32_t> out;
  out.reserve(size_t(picks));
  if (picks == 0) return out;

  // || mu - (S + phi(p)) / k || = || k T - n S - n phi(p) || / (n k), T the sum of all rows and S
  // of the picks so far: no division, so rows that tie in exact arithmetic (duplicates, the +-1
  // rows of dim 1) tie in double too and go to the lower index, not to a rounding error. The
  // target k T - n S is formed once per pick; each candidate then costs one squared distance.
  std::vector<double> total(static_cast<size_t>(dim), 0.0), sum(static_cast<size_t>(dim), 0.0),
      target(static_cast<size_t>(dim));
  for (int64_t i = 0; i < n; ++i)
    for (int j = 0; j < dim; ++j) total[j] += features[i * dim + j];
  const double rows = double(n);
  std::vector<char> picked(size_t(n), 0);
  for (int64_t k = 1; k <= picks; ++k) {
    for (int j = 0; j < dim; ++j) target[j] = double(k) * total[j] - rows * sum[j];
    // A row whose distance is not finite (NaN features: a bug upstream) is taken only when no
    // other row is left, so the picks stay distinct and deterministic.
    int64_t best = -1, fallback = -1;
    double best_d = std::numeric_limits<double>::infinity();
    for (int64_t p = 0; p < n; ++p) {
      if (picked[p]) continue;
      if (fallback < 0) fallback = p;
      const float* row = features + p * dim;
      double d = 0;
      for (int j = 0; j < dim; ++j) {
        const double e = target[j] - rows * row[j];
        d += e * e;
      }
      if (d < best_d) {  // strict: the lowest index keeps a tie
        best = p;
        best_d = d;
      }
    }
    if (best < 0) best = fallback;
    picked[best] = 1;
    out.push_back(int32_t(best));
    for (int j = 0; j < dim; ++j) sum[j] += features[best * dim + j];
  }
  return out;
}

int32_t nearest_mean_class(const float* feature, int dim, const float* means, const uint8_t* has_mean,
                           const uint8_t* allowed, int num_classes) {
  CLB_ASSERT(dim >= 1 && num_classes >= 0);
  CLB_ASSERT(feature != nullptr);
  CLB_ASSERT(num_classes == 0 || (means != nullptr && has_mean != nullptr));
  std::vector<double> f(static_cast<size_t>(dim));
  double sq = 0;
  for (int j = 0; j < dim; ++j) {
    f[j] = feature[j];
    sq += f[j] * f[j];
  }
  if (sq > 0) {
    const double inv = 1.0 / std::sqrt(sq);
    for (double& v : f) v *= inv;
  }
  int32_t best = -1, fallback = -1;  // fallback: the lowest predictable class, for a NaN feature
  double best_d = std::numeric_limits<double>::infinity();
  for (int c = 0; c < num_classes; ++c) {
    if (!has_mean[c] || (allowed != nullptr && !allowed[c])) continue;
    if (fallback < 0) fallback = c;
    const float* mean = means + int64_t(c) * dim;
    double d = 0;
    for (int j = 0; j < dim; ++j) {
      const double e = f[j] - mean[j];
      d += e * e;
    }
    if (d < best_d) {
      best = c;
      best_d = d;
    }
  }
  return best >= 0 ? best : fallback;
}

}  // namespace clb
