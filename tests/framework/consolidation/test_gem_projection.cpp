// GEM's non-negative QP against brute force over every free set, and the projection against the
// float64 solution of the same (eps-regularised) dual.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>

#include "framework/consolidation/gem_projection.h"
#include "framework/core/error.h"

namespace clb {
namespace {

constexpr double kEps = 1e-3;  // the regularisation gem_project adds to G G^T (the reference's)

using Vec = std::vector<double>;

double objective(const Vec& P, const Vec& c, const Vec& u) {
  const size_t K = c.size();
  double f = 0;
  for (size_t i = 0; i < K; ++i) {
    f += c[i] * u[i];
    for (size_t j = 0; j < K; ++j) f += 0.5 * u[i] * P[i * K + j] * u[j];
  }
  return f;
}

// Solves A x = b (m x m) by Gaussian elimination with partial pivoting.
Vec gauss_solve(Vec A, Vec b, size_t m) {
  for (size_t col = 0; col < m; ++col) {
    size_t piv = col;
    for (size_t r = col + 1; r < m; ++r)
      if (std::abs(A[r * m + col]) > std::abs(A[piv * m + col])) piv = r;
    for (size_t k = 0; k < m; ++k) std::swap(A[col * m + k], A[piv * m + k]);
    std::swap(b[col], b[piv]);
    for (size_t r = col + 1; r < m; ++r) {
      const double f = A[r * m + col] / A[col * m + col];
      for (size_t k = col; k < m; ++k) A[r * m + k] -= f * A[col * m + k];
      b[r] -= f * b[col];
    }
  }
  Vec x(m);
  for (size_t i = m; i-- > 0;) {
    double s = b[i];
    for (size_t k = i + 1; k < m; ++k) s -= A[i * m + k] * x[k];
    x[i] = s / A[i * m + i];
  }
  return x;
}

// The optimum's free set F gives u_F = -P_FF^-1 c_F; every feasible candidate is a feasible point,
// so the best of all 2^K candidates is the optimum.
Vec brute_force(const Vec& P, const Vec& c) {
  const size_t K = c.size();
  Vec best(K, 0.0);
  double best_f = objective(P, c, best);
  for (unsigned mask = 1; mask < (1u << K); ++mask) {
    std::vector<size_t> F;
    for (size_t i = 0; i < K; ++i)
      if (mask >> i & 1) F.push_back(i);
    const size_t m = F.size();
    Vec A(m * m), b(m);
    for (size_t i = 0; i < m; ++i) {
      b[i] = -c[F[i]];
      for (size_t j = 0; j < m; ++j) A[i * m + j] = P[F[i] * K + F[j]];
    }
    const Vec x = gauss_solve(A, b, m);
    if (std::any_of(x.begin(), x.end(), [](double v) { return v < -1e-12; })) continue;
    Vec u(K, 0.0);
    for (size_t i = 0; i < m; ++i) u[F[i]] = std::max(x[i], 0.0);
    const double f = objective(P, c, u);
    if (f < best_f) best_f = f, best = u;
  }
  return best;
}

enum class Kind { kMixed, kInteriorOptimum, kZeroOptimum };

// P = A A^T + small I with A K x m; m < K makes A A^T singular, so P is ill-conditioned.
void random_problem(std::mt19937_64& rng, int K, Kind kind, Vec& P, Vec& c) {
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform(0.1, 2.0);
  const int m = 1 + int(rng() % (K + 2));
  Vec A(size_t(K) * m);
  for (double& a : A) a = normal(rng);
  const double small = (rng() % 2) ? 1e-3 : 1e-1;
  P.assign(size_t(K) * K, 0.0);
  for (int i = 0; i < K; ++i)
    for (int j = 0; j < K; ++j) {
      for (int k = 0; k < m; ++k) P[i * K + j] += A[i * m + k] * A[j * m + k];
      if (i == j) P[i * K + j] += small;
    }
  c.assign(K, 0.0);
  if (kind == Kind::kMixed) {
    for (double& x : c) x = normal(rng);
  } else if (kind == Kind::kInteriorOptimum) {  // c = -P x with x > 0: the unconstrained optimum is x
    Vec x(K);
    for (double& v : x) v = uniform(rng);
    for (int i = 0; i < K; ++i)
      for (int j = 0; j < K; ++j) c[i] -= P[i * K + j] * x[j];
  } else {  // c >= 0: the gradient at u = 0 is c, so u = 0 is optimal
    for (double& x : c) x = uniform(rng);
  }
}

TEST(GemProjection, NonnegQpMatchesBruteForce) {
  std::mt19937_64 rng(20170);
  int interior = 0, zero = 0, partial = 0, stepped_back = 0;
  for (int trial = 0; trial < 1500; ++trial) {
    const int K = 1 + trial % 7;
    const Kind kind = trial % 5 == 3 ? Kind::kInteriorOptimum : trial % 5 == 4 ? Kind::kZeroOptimum : Kind::kMixed;
    Vec P, c;
    random_problem(rng, K, kind, P, c);
    const NonnegQpResult r = solve_nonneg_qp(P, c, K);
    const Vec ref = brute_force(P, c);
    ASSERT_EQ(r.u.size(), size_t(K));

    double ref_max = 0, p_scale = 0, c_scale = 0;
    for (double x : ref) ref_max = std::max(ref_max, x);
    for (double x : P) p_scale = std::max(p_scale, std::abs(x));
    for (double x : c) c_scale = std::max(c_scale, std::abs(x));
    const int positive = int(std::count_if(ref.begin(), ref.end(), [](double x) { return x > 0; }));
    (positive == K ? interior : positive == 0 ? zero : partial)++;
    // Each solve without a step back adds one variable for good: more solves than positive u's means
    // the step back ran.
    stepped_back += r.iterations > positive;
    if (kind == Kind::kZeroOptimum) {
      EXPECT_EQ(positive, 0);
    }

    for (int i = 0; i < K; ++i) ASSERT_NEAR(r.u[i], ref[i], 1e-8 * (1 + ref_max)) << "trial " << trial << " i " << i;
    const double f = objective(P, c, r.u), f_ref = objective(P, c, ref);
    EXPECT_NEAR(f, f_ref, 1e-10 * (1 + std::abs(f_ref))) << "trial " << trial;
    // KKT: u >= 0, gradient >= 0, u_i gradient_i = 0 (to rounding of the gradient's terms).
    const double tol = 1e-9 * (c_scale + p_scale * (1 + ref_max));
    for (int i = 0; i < K; ++i) {
      double grad = c[i];
      for (int j = 0; j < K; ++j) grad += P[i * K + j] * r.u[j];
      EXPECT_GE(r.u[i], 0.0);
      EXPECT_GE(grad, -tol) << "trial " << trial;
      EXPECT_LE(std::abs(r.u[i] * grad), tol * (1 + r.u[i])) << "trial " << trial;
    }
  }
  // The generator must have reached every shape of answer.
  EXPECT_GT(interior, 100);
  EXPECT_GT(zero, 100);
  EXPECT_GT(partial, 100);
  EXPECT_GT(stepped_back, 20);
}

struct Projection {
  std::vector<float> g;
  std::vector<std::vector<float>> refs;
  std::vector<const float*> ptrs() const {
    std::vector<const float*> p;
    for (const auto& r : refs) p.push_back(r.data());
    return p;
  }
};

// g and K refs in n; g is pushed against some refs so that their constraints are violated.
Projection random_projection(std::mt19937_64& rng, int K, int64_t n) {
  std::normal_distribution<float> normal;
  Projection p;
  p.refs.assign(K, std::vector<float>(n));
  for (auto& r : p.refs)
    for (float& x : r) x = normal(rng);
  p.g.resize(n);
  for (float& x : p.g) x = normal(rng);
  for (int k = 0; k < K; k += 2)
    for (int64_t i = 0; i < n; ++i) p.g[i] -= 0.5f * p.refs[k][i];
  return p;
}

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += double(a[i]) * b[i];
  return s;
}

// The dual's solution in float64: v = margin + brute-force u of the same regularised problem.
Vec reference_v(const Projection& p, float margin) {
  const size_t K = p.refs.size();
  Vec P(K * K), c(K);
  for (size_t i = 0; i < K; ++i)
    for (size_t j = 0; j < K; ++j) P[i * K + j] = dot(p.refs[i], p.refs[j]) + (i == j ? kEps : 0.0);
  for (size_t i = 0; i < K; ++i) {
    c[i] = dot(p.g, p.refs[i]);
    for (size_t j = 0; j < K; ++j) c[i] += P[i * K + j] * margin;
  }
  Vec v = brute_force(P, c);
  for (double& x : v) x += margin;
  return v;
}

// z against g + G^T v in float64: z is rounded once to float (2^-24 relative per element); the QP's
// own error is far below that.
void expect_matches_dual(const Projection& p, const std::vector<float>& z, const Vec& v) {
  for (size_t i = 0; i < z.size(); ++i) {
    double want = p.g[i], scale = std::abs(p.g[i]);
    for (size_t k = 0; k < v.size(); ++k) want += v[k] * p.refs[k][i], scale += std::abs(v[k] * p.refs[k][i]);
    ASSERT_NEAR(z[i], want, 1.2e-7 * std::abs(want) + 1e-12 * scale) << "i " << i;
  }
}

double norm(const std::vector<float>& a) { return std::sqrt(dot(a, a)); }

TEST(GemProjection, ProjectionSatisfiesEveryConstraint) {
  std::mt19937_64 rng(42);
  const int64_t n = 257;
  for (int K = 1; K <= 12; ++K)
    for (int trial = 0; trial < 10; ++trial) {
      Projection p = random_projection(rng, K, n);
      ASSERT_LT(dot(p.g, p.refs[0]), 0);  // at least one violated constraint
      std::vector<float> z = p.g;
      EXPECT_TRUE(gem_project(z.data(), p.ptrs(), n, 0.0f));
      const Vec v = reference_v(p, 0.0f);
      expect_matches_dual(p, z, v);
      for (int k = 0; k < K; ++k) {
        // The eps-regularised dual's KKT condition is g_k . z + eps v_k >= 0 (= 0 where v_k > 0), so the
        // constraint holds only to -eps v_k; float rounding of z adds at most ~6e-8 |z| |g_k| (1e-6 here).
        const double zk = dot(z, p.refs[k]);
        const double rounding = 1e-6 * norm(z) * norm(p.refs[k]);
        EXPECT_GE(zk, -kEps * v[k] - rounding) << "K " << K << " k " << k;
        if (v[k] > 0) {
          EXPECT_NEAR(zk, -kEps * v[k], rounding) << "K " << K << " k " << k;
        }
      }
    }
}

// Without eps, G G^T is singular here; the projection must still be the regularised dual's.
TEST(GemProjection, ParallelAndZeroMemories) {
  std::mt19937_64 rng(9);
  const int64_t n = 257;
  Projection p = random_projection(rng, 4, n);
  for (int64_t i = 0; i < n; ++i) {
    p.refs[1][i] = 2.0f * p.refs[0][i];  // parallel to refs[0]
    p.refs[2][i] = 0.0f;                 // a memory with no gradient
  }
  ASSERT_LT(dot(p.g, p.refs[1]), 0);
  std::vector<float> z = p.g;
  ASSERT_TRUE(gem_project(z.data(), p.ptrs(), n, 0.0f));
  const Vec v = reference_v(p, 0.0f);
  expect_matches_dual(p, z, v);
  for (int k = 0; k < 4; ++k)
    EXPECT_GE(dot(z, p.refs[k]), -kEps * v[k] - 1e-6 * norm(z) * norm(p.refs[k])) << "k " << k;
}

TEST(GemProjection, SingleConstraintIsAgemWithEps) {
  std::mt19937_64 rng(7);
  const int64_t n = 257;
  for (int trial = 0; trial < 20; ++trial) {
    Projection p = random_projection(rng, 1, n);
    const auto& r = p.refs[0];
    const double gr = dot(p.g, r), rr = dot(r, r);
    std::vector<float> z = p.g;
    ASSERT_TRUE(gem_project(z.data(), p.ptrs(), n, 0.0f));
    // The 1-D dual: min 1/2 (r.r + eps) v^2 + (g.r) v, v >= 0 -> v = -(g.r) / (r.r + eps). A-GEM's
    // g - (g.r / r.r) r is the eps = 0 case; the two differ by |g.r| eps / (r.r (r.r + eps)) |r_i|.
    const double v = -gr / (rr + kEps);
    for (int64_t i = 0; i < n; ++i) {
      const double want = p.g[i] + v * r[i];
      ASSERT_NEAR(z[i], want, 1.2e-7 * std::abs(want) + 1e-12);
      const double agem = p.g[i] - gr / rr * r[i];
      const double eps_gap = std::abs(gr) * kEps / (rr * (rr + kEps)) * std::abs(r[i]);
      ASSERT_NEAR(z[i], agem, eps_gap * 1.01 + 1.2e-7 * std::abs(agem) + 1e-12);
    }
  }
}

TEST(GemProjection, NoViolationLeavesGradientBitwiseUnchanged) {
  std::mt19937_64 rng(3);
  const int64_t n = 257;
  for (int K = 0; K <= 5; ++K) {
    Projection p = random_projection(rng, K, n);
    // Make every g . g_k >= 0: g = sum of the refs plus a little noise along nothing in particular.
    for (int64_t i = 0; i < n; ++i) {
      float s = 0;
      for (int k = 0; k < K; ++k) s += p.refs[k][i];
      p.g[i] = 10.0f * s + (i % 3 == 0 ? 0.25f : -0.5f);
    }
    for (int k = 0; k < K; ++k) ASSERT_GE(dot(p.g, p.refs[k]), 0);
    std::vector<float> z = p.g;
    for (float margin : {0.0f, 0.5f}) {
      EXPECT_FALSE(gem_project(z.data(), p.ptrs(), n, margin));
      EXPECT_EQ(std::memcmp(z.data(), p.g.data(), n * sizeof(float)), 0);
    }
  }
  // An exactly orthogonal g is not a violation (g . r = 0 >= 0).
  std::vector<float> g = {1, 0, -2}, r = {0, 3, 0};
  EXPECT_FALSE(gem_project(g.data(), {r.data()}, 3, 0.0f));
  EXPECT_EQ(g, (std::vector<float>{1, 0, -2}));
}

TEST(GemProjection, MarginKeepsEveryMultiplierAboveIt) {
  std::mt19937_64 rng(11);
  const int64_t n = 257;
  for (float margin : {0.1f, 0.5f, 2.0f}) {
    // K = 1: v recovered from z - g = v r.
    Projection p = random_projection(rng, 1, n);
    const auto& r = p.refs[0];
    std::vector<float> z = p.g;
    ASSERT_TRUE(gem_project(z.data(), p.ptrs(), n, margin));
    std::vector<float> d(n);
    for (int64_t i = 0; i < n; ++i) d[i] = z[i] - p.g[i];
    const double rr = dot(r, r), v = dot(d, r) / rr;
    const double v_want = std::max(double(margin), -dot(p.g, r) / (rr + kEps));
    EXPECT_GE(v, margin * (1 - 1e-5));
    EXPECT_NEAR(v, v_want, 1e-5 * v_want);
    // z - g is along r: nothing else moved.
    for (int64_t i = 0; i < n; ++i) ASSERT_NEAR(d[i], v * r[i], 1e-5 * (std::abs(p.g[i]) + std::abs(z[i])));

    // K = 5: every v_k >= margin, and z = g + G^T v with those v.
    Projection q = random_projection(rng, 5, n);
    std::vector<float> zq = q.g;
    ASSERT_TRUE(gem_project(zq.data(), q.ptrs(), n, margin));
    const Vec vq = reference_v(q, margin);
    for (double x : vq) EXPECT_GE(x, margin);
    expect_matches_dual(q, zq, vq);
  }
  // A margin large enough to bind: v = margin exactly, so z . r = g . r + margin r . r > 0.
  std::vector<float> g = {-1, 0}, r = {1, 0};
  ASSERT_TRUE(gem_project(g.data(), {r.data()}, 2, 3.0f));
  EXPECT_FLOAT_EQ(g[0], 2.0f);
  EXPECT_EQ(g[1], 0.0f);
}

TEST(GemProjection, BadProblemsThrow) {
  auto expect_qp_error = [](auto&& call) {
    try {
      call();
      ADD_FAILURE() << "no clb::Error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("QP"), std::string::npos) << e.what();
    }
  };
  // Not positive definite: the free block [0] has no Cholesky factor.
  EXPECT_THROW(solve_nonneg_qp({0, 0, 0, 0}, {-1, -1}, 2), Error);
  expect_qp_error([] { solve_nonneg_qp({0, 0, 0, 0}, {-1, -1}, 2); });
  // Indefinite: [[1,-2],[-2,1]] has eigenvalue -1; u_0 = 1 leaves u_1's gradient at -3, and the
  // block of both then has no Cholesky factor. (With [[1,2],[2,1]] the path never needs that block.)
  expect_qp_error([] { solve_nonneg_qp({1, -2, -2, 1}, {-1, -1}, 2); });
  // Too few iterations for a problem that needs several.
  std::mt19937_64 rng(5);
  Vec P, c;
  random_problem(rng, 6, Kind::kInteriorOptimum, P, c);
  EXPECT_THROW(solve_nonneg_qp(P, c, 6, 1e-10, 1), Error);
  expect_qp_error([&] { solve_nonneg_qp(P, c, 6, 1e-10, 1); });
  // Sizes that disagree, and non-finite coefficients.
  expect_qp_error([] { solve_nonneg_qp({1, 0, 0}, {-1, -1}, 2); });
  expect_qp_error([] { solve_nonneg_qp({1, 0, 0, NAN}, {-1, -1}, 2); });
  // A negative memory strength.
  std::vector<float> g = {-1, 0}, r = {1, 0};
  EXPECT_THROW(gem_project(g.data(), {r.data()}, 2, -0.5f), Error);
}

TEST(GemProjection, HandSolvedQps) {
  const NonnegQpResult empty = solve_nonneg_qp({}, {}, 0);
  EXPECT_TRUE(empty.u.empty());
  EXPECT_EQ(empty.iterations, 0);
  // u_0 enters first (a tie, broken by index), then u_1; the solve on both lands on u_0 = 0 (to
  // rounding): the step back must drop u_0, not another variable. Optimum (0, 1).
  const NonnegQpResult r = solve_nonneg_qp({2, 1, 1, 1}, {-1, -1}, 2);
  EXPECT_NEAR(r.u[0], 0.0, 1e-12);
  EXPECT_NEAR(r.u[1], 1.0, 1e-12);
}

}  // namespace
}  // namespace clb
