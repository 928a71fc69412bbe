#include "framework/consolidation/gem_projection.h"

#include <algorithm>
#include <cmath>

#include "framework/core/error.h"

namespace clb {

namespace {

// The reference's regularisation of G G^T. P is singular when two memories' gradients are parallel
// (or one is zero), and the dual then has no unique solution. It also moves the answer: at the
// optimum g_k . z = -eps v_k (not 0) for every constraint with v_k > margin.
constexpr double kEps = 1e-3;

double dot(const float* a, const float* b, int64_t n) {
  double s = 0;
#pragma omp parallel for simd reduction(+ : s) schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) s += double(a[i]) * b[i];
  return s;
}

// x = P_FF^-1 b_F by Cholesky; false when P_FF is not (numerically) positive definite.
bool solve_free(const std::vector<double>& P, int K, const std::vector<int>& F, const std::vector<double>& b,
                std::vector<double>& x) {
  const size_t m = F.size();
  std::vector<double> L(m * m, 0.0);
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j <= i; ++j) {
      double s = P[size_t(F[i]) * K + F[j]];
      for (size_t k = 0; k < j; ++k) s -= L[i * m + k] * L[j * m + k];
      if (i != j) {
        L[i * m + j] = s / L[j * m + j];
      } else {
        // A pivot lost to cancellation is as bad as a negative one: the solve would be noise.
        if (!(s > 1e-13 * std::abs(P[size_t(F[i]) * K + F[i]]))) return false;
        L[i * m + i] = std::sqrt(s);
      }
    }
  x.assign(m, 0.0);
  for (size_t i = 0; i < m; ++i) {  // L y = b
    double s = b[F[i]];
    for (size_t k = 0; k < i; ++k) s -= L[i * m + k] * x[k];
    x[i] = s / L[i * m + i];
  }
  for (size_t i = m; i-- > 0;) {  // L^T x = y
    double s = x[i];
    for (size_t k = i + 1; k < m; ++k) s -= L[k * m + i] * x[k];
    x[i] = s / L[i * m + i];
  }
  return true;
}

}  // namespace

NonnegQpResult solve_nonneg_qp(const std::vector<double>& P, const std::vector<double>& c, int K, double tol,
                               int max_iterations) {
  if (K < 0 || P.size() != size_t(K) * K || c.size() != size_t(K))
    fail("GEM's QP: P has {} entries and c {} for K = {}", P.size(), c.size(), K);
  if (max_iterations <= 0) max_iterations = 50 * K + 100;
  double p_scale = 0, c_scale = 0;
  for (double p : P) p_scale = std::max(p_scale, std::abs(p));
  for (double x : c) c_scale = std::max(c_scale, std::abs(x));
  auto finite = [](double x) { return std::isfinite(x); };
  if (!std::all_of(P.begin(), P.end(), finite) || !std::all_of(c.begin(), c.end(), finite))
    fail("GEM's QP has a non-finite coefficient (K = {})", K);

  NonnegQpResult r;
  r.u.assign(K, 0.0);
  std::vector<char> is_free(K, 0);
  std::vector<double> minus_c(K), s;
  for (int i = 0; i < K; ++i) minus_c[i] = -c[i];
  for (;;) {
    // KKT: every fixed (u = 0) variable has gradient (P u + c)_j >= 0. The tolerance scales with the
    // gradient's terms, whose rounding it must absorb.
    double u_max = 0;
    for (double x : r.u) u_max = std::max(u_max, x);
    const double kkt_tol = tol * (c_scale + p_scale * u_max);
    int enter = -1;
    double most_negative = -kkt_tol;
    for (int j = 0; j < K; ++j) {
      if (is_free[j]) continue;
      double grad = c[j];
      for (int k = 0; k < K; ++k) grad += P[size_t(j) * K + k] * r.u[k];
      if (grad < most_negative) most_negative = grad, enter = j;
    }
    if (enter < 0) return r;
    is_free[enter] = 1;

    for (;;) {
      if (++r.iterations > max_iterations)
        fail("GEM's QP did not converge in {} iterations (K = {}); P may be too badly conditioned", max_iterations, K);
      std::vector<int> F;
      for (int i = 0; i < K; ++i)
        if (is_free[i]) F.push_back(i);
      if (!solve_free(P, K, F, minus_c, s))
        fail("GEM's QP: P is not positive definite on its free set ({} of K = {} variables)", F.size(), K);
      if (std::all_of(s.begin(), s.end(), [](double x) { return x > 0; })) {
        for (size_t i = 0; i < F.size(); ++i) r.u[F[i]] = s[i];
        break;
      }
      // Step back: move from u toward s only until the first free variable reaches 0, and fix it
      // there (with any other that rounding put at or below 0). u stays feasible, the objective falls.
      double alpha = 1;
      size_t hit = F.size();  // some s_i <= 0 sets it, with alpha <= 1
      for (size_t i = 0; i < F.size(); ++i) {
        if (s[i] > 0) continue;
        const double gap = r.u[F[i]] - s[i];
        const double a = gap > 0 ? r.u[F[i]] / gap : 0.0;
        if (hit == F.size() || a < alpha) alpha = a, hit = i;
      }
      for (size_t i = 0; i < F.size(); ++i) {
        r.u[F[i]] += alpha * (s[i] - r.u[F[i]]);
        if (i == hit || r.u[F[i]] <= 0) r.u[F[i]] = 0, is_free[F[i]] = 0;
      }
    }
  }
}

bool gem_project(float* g, const std::vector<const float*>& refs, int64_t n, float margin) {
  if (!(margin >= 0)) fail("GEM's memory strength (margin) must be >= 0, got {}", margin);
  const int K = int(refs.size());
  std::vector<double> q(K);
  bool violated = false;
  for (int k = 0; k < K; ++k) {
    q[k] = dot(g, refs[k], n);
    violated |= q[k] < 0;
  }
  if (!violated) return false;

  std::vector<double> P(size_t(K) * K);
  for (int i = 0; i < K; ++i)
    for (int j = 0; j <= i; ++j) P[size_t(i) * K + j] = P[size_t(j) * K + i] = dot(refs[i], refs[j], n);
  for (int i = 0; i < K; ++i) P[size_t(i) * K + i] += kEps;
  // v = u + margin: c = q + P (margin 1).
  std::vector<double> c = q;
  for (int i = 0; i < K; ++i)
    for (int j = 0; j < K; ++j) c[i] += P[size_t(i) * K + j] * margin;
  std::vector<double> v = solve_nonneg_qp(P, c, K).u;
  for (double& x : v) x += margin;

  // z = g + G^T v, summed in double and rounded once.
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    double z = g[i];
    for (int k = 0; k < K; ++k) z += v[k] * refs[k][i];
    g[i] = float(z);
  }
  return true;
}

}  // namespace clb
