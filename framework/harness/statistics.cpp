#include "framework/harness/statistics.h"

#include <cmath>
#include <limits>
#include <map>
#include <mutex>

#include "framework/core/error.h"

namespace clb {

namespace {

// Student's t density with nu degrees of freedom.
double t_density(double x, double nu) {
  const double log_c = std::lgamma((nu + 1) / 2) - std::lgamma(nu / 2) - 0.5 * std::log(nu * M_PI);
  return std::exp(log_c - (nu + 1) / 2 * std::log1p(x * x / nu));
}

// P(0 <= T <= x) by composite Simpson's rule: the density is smooth, and 4,000 panels put the
// error far below the 1e-9 the quantile's bisection asks for.
double t_mass_from_zero(double x, double nu) {
  const int n = 4000;
  const double h = x / n;
  double s = t_density(0, nu) + t_density(x, nu);
  for (int i = 1; i < n; ++i) s += (i % 2 ? 4 : 2) * t_density(i * h, nu);
  return s * h / 3;
}

}  // namespace

double t_quantile_975(int df) {
  CLB_ASSERT(df >= 1);
  // Tables call this per row with a handful of seed counts: each df is computed once.
  static std::mutex mutex;
  static std::map<int, double> known;
  const std::lock_guard<std::mutex> lock(mutex);
  if (const auto it = known.find(df); it != known.end()) return it->second;
  // Bisection on P(0 <= T <= q) = 0.475; q lies in [1.95, 12.8] for every df >= 1.
  double lo = 1.9, hi = 13.0;
  for (int i = 0; i < 60; ++i) {
    const double mid = (lo + hi) / 2;
    (t_mass_from_zero(mid, df) < 0.475 ? lo : hi) = mid;
  }
  return known[df] = (lo + hi) / 2;
}

Interval t_interval95(const std::vector<double>& v) {
  Interval r;
  r.n = int(v.size());
  if (v.empty()) return {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN(), 0};
  double sum = 0;
  for (double x : v) sum += x;
  r.mean = sum / r.n;
  if (r.n < 2) {
    r.half_width = std::numeric_limits<double>::quiet_NaN();
    return r;
  }
  double ss = 0;
  for (double x : v) ss += (x - r.mean) * (x - r.mean);
  const double sd = std::sqrt(ss / (r.n - 1));
  r.half_width = t_quantile_975(r.n - 1) * sd / std::sqrt(double(r.n));
  return r;
}

Interval paired_difference95(const std::vector<double>& a, const std::vector<double>& b) {
  CLB_ASSERT(a.size() == b.size());
  std::vector<double> d(a.size());
  for (size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  return t_interval95(d);
}

}  // namespace clb
