#include "framework/harness/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "framework/core/error.h"

namespace clb {

ClMetrics compute_metrics(const Matrix& R, const std::vector<double>& b, const Matrix& lca_curves) {
  const int T = int(R.size());
  CLB_ASSERT(T >= 1 && int(b.size()) == T);
  for (const auto& row : R) CLB_ASSERT(int(row.size()) == T);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  ClMetrics m;
  m.acc = 0;
  for (int j = 0; j < T; ++j) m.acc += R[T - 1][j] / T;
  m.bwt = m.fwt = m.forgetting = T > 1 ? 0.0 : nan;
  for (int j = 0; j + 1 < T; ++j) {
    m.bwt += (R[T - 1][j] - R[j][j]) / (T - 1);
    double best = R[0][j];
    for (int l = 1; l + 1 < T; ++l) best = std::max(best, R[l][j]);
    m.forgetting += (best - R[T - 1][j]) / (T - 1);
  }
  for (int j = 1; j < T; ++j) m.fwt += (R[j - 1][j] - b[j]) / (T - 1);
  m.lca = nan;
  if (!lca_curves.empty() && !lca_curves[0].empty()) {
    const size_t points = lca_curves[0].size();
    double sum = 0;
    for (const auto& curve : lca_curves) {
      CLB_ASSERT(curve.size() == points);
      for (double z : curve) sum += z;
    }
    m.lca = sum / double(points * lca_curves.size());
  }
  return m;
}

MeanStd mean_std(const std::vector<double>& v) {
  MeanStd r;
  if (v.empty()) return r;
  for (double x : v) r.mean += x / double(v.size());
  if (v.size() > 1) {
    double ss = 0;
    for (double x : v) ss += (x - r.mean) * (x - r.mean);
    r.std = std::sqrt(ss / double(v.size() - 1));
  }
  return r;
}

}  // namespace clb

namespace clb {

void LossCurve::add_task(const std::vector<double>& losses) {
  task_start.push_back(steps);
  const int64_t n = int64_t(losses.size());
  const int64_t bin = (n + kPointsPerTask - 1) / kPointsPerTask;  // steps per point, >= 1 for n > 0
  for (int64_t begin = 0; begin < n; begin += bin) {
    const int64_t end = std::min(n, begin + bin);
    double sum = 0;
    for (int64_t k = begin; k < end; ++k) sum += losses[size_t(k)];
    step.push_back(steps + end);
    loss.push_back(sum / double(end - begin));
  }
  steps += n;
}

}  // namespace clb
