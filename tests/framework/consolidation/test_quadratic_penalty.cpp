// The O(P) separate-EWC penalty against T explicit penalties (float64), online EWC's recursion,
// and the fused penalty + optimizer update against its formulas.
#include <gtest/gtest.h>

#include "kernels/cpu/cpu_ops.h"
#include "framework/consolidation/quadratic_penalty.h"
#include "framework/core/rng.h"

namespace clb {
namespace {

struct Terms {
  std::vector<std::vector<float>> F, anchor;
};

Terms random_terms(int T, int P, Rng& rng, float anchor_spread) {
  Terms t;
  for (int k = 0; k < T; ++k) {
    std::vector<float> f(P), a(P);
    for (int i = 0; i < P; ++i) {
      f[i] = (i % 7 == 3) ? 0.0f : float(rng.uniform());  // some exact zeros: S = 0 must work
      a[i] = 1.0f + anchor_spread * float(rng.normal());
    }
    t.F.push_back(f);
    t.anchor.push_back(a);
  }
  return t;
}

class SeparatePenalty : public ::testing::TestWithParam<float> {};

TEST_P(SeparatePenalty, EqualsExplicitSumOverTasks) {
  const int T = 5, P = 257;
  Rng rng(3);
  // anchor_spread is small in one instance: anchors within 1e-4 of each other and of theta,
  // where the two-vector form (S theta - sum F a) would cancel catastrophically in float32.
  const float spread = GetParam();
  const Terms terms = random_terms(T, P, rng, spread);
  QuadraticPenalty pen(P);
  for (int t = 0; t < T; ++t) pen.add_separate(terms.F[t].data(), terms.anchor[t].data());
  std::vector<float> theta(P);
  for (int i = 0; i < P; ++i) theta[i] = 1.0f + spread * float(rng.normal());

  double want_value = 0;
  std::vector<double> want_grad(P, 0.0);
  const float lambda = 3.0f;
  for (int t = 0; t < T; ++t)
    for (int i = 0; i < P; ++i) {
      const double d = double(theta[i]) - terms.anchor[t][i];
      want_value += 0.5 * terms.F[t][i] * d * d;
      want_grad[i] += lambda * terms.F[t][i] * d;
    }
  // Value: float32 storage of S and abar, double sums: rtol 1e-5.
  EXPECT_NEAR(pen.value(theta.data()), want_value, 1e-5 * want_value);
  std::vector<float> grad(P, 0.0f);
  pen.add_gradient(theta.data(), lambda, grad.data());
  // Gradient: lambda S o (theta - abar) with abar stored in float32. theta - abar is exact when
  // they are close (Sterbenz), so the error is abar's rounding, once per added task:
  // |err_k| <= lambda S_k T eps |abar_k| (eps = 2^-24) — the error single-task EWC makes by
  // storing its anchor in float32. Plus rtol 1e-5 for the float32 products.
  for (int i = 0; i < P; ++i) {
    const double bound = lambda * pen.weight()[i] * T * 0x1p-24 * std::abs(pen.anchor()[i]);
    EXPECT_NEAR(grad[i], want_grad[i], bound + 1e-5 * std::abs(want_grad[i]) + 1e-12) << "param " << i;
  }
  EXPECT_EQ(pen.tasks(), T);
  EXPECT_EQ(pen.bytes_held(), 2 * P * int64_t(sizeof(float)));
}

INSTANTIATE_TEST_SUITE_P(Spreads, SeparatePenalty, ::testing::Values(0.5f, 1e-4f),
                         [](const auto& info) { return info.index == 0 ? std::string("wide") : std::string("close"); });

TEST(OnlinePenalty, DecaysFisherAndAnchorsAtLatest) {
  const int P = 31;
  Rng rng(4);
  const Terms terms = random_terms(3, P, rng, 0.3f);
  QuadraticPenalty pen(P);
  const float gamma = 0.7f;
  for (int t = 0; t < 3; ++t) pen.add_online(terms.F[t].data(), terms.anchor[t].data(), gamma);
  for (int i = 0; i < P; ++i) {
    const double want = gamma * (gamma * terms.F[0][i] + terms.F[1][i]) + terms.F[2][i];
    EXPECT_NEAR(pen.weight()[i], want, 1e-6 * (1 + want));
    EXPECT_EQ(pen.anchor()[i], terms.anchor[2][i]);
  }
  std::vector<float> theta(terms.anchor[2]);
  EXPECT_EQ(pen.value(theta.data()), 0.0);  // at the latest anchor the online penalty vanishes
}

struct UpdateCase {
  Optimizer opt;
  bool penalty;
};

class FusedUpdate : public ::testing::TestWithParam<UpdateCase> {};

std::string update_case_name(const ::testing::TestParamInfo<UpdateCase>& info) {
  static const char* names[] = {"sgd", "momentum", "adam"};
  return std::string(names[int(info.param.opt)]) + (info.param.penalty ? "_penalty" : "");
}

TEST_P(FusedUpdate, MatchesFormulaInDouble) {
  const UpdateCase c = GetParam();
  const int n = 100003;  // odd, above the OpenMP threshold, not divisible by the vector width
  Rng rng(5);
  std::vector<float> theta(n), grad(n), F(n), anchor(n), m(n), v(n);
  for (int i = 0; i < n; ++i) {
    theta[i] = float(rng.normal()), grad[i] = float(rng.normal()), F[i] = float(rng.uniform());
    anchor[i] = float(rng.normal()), m[i] = float(rng.normal()), v[i] = float(rng.uniform());
  }
  const auto theta0 = theta, m0 = m, v0 = v;
  FusedUpdateArgs a;
  a.theta = theta.data(), a.grad = grad.data(), a.n = n, a.opt = c.opt;
  a.lr = 0.05f, a.lambda = c.penalty ? 2.5f : 0.0f, a.step = 3;
  if (c.penalty) a.fisher = F.data(), a.anchor = anchor.data();
  a.m = m.data(), a.v = v.data();
  cpu::fused_update(a);
  for (int i = 0; i < n; i += 97) {
    double g = grad[i];
    if (c.penalty) g += 2.5 * F[i] * (double(theta0[i]) - anchor[i]);
    double th = theta0[i];
    if (c.opt == Optimizer::kSgd) {
      th -= 0.05 * g;
    } else if (c.opt == Optimizer::kMomentum) {
      const double mm = 0.9 * m0[i] + g;
      EXPECT_NEAR(m[i], mm, 1e-6 * (1 + std::abs(mm)));
      th -= 0.05 * mm;
    } else {
      const double mm = 0.9 * m0[i] + 0.1 * g, vv = 0.999 * v0[i] + 0.001 * g * g;
      const double mhat = mm / (1 - std::pow(0.9, 3)), vhat = vv / (1 - std::pow(0.999, 3));
      EXPECT_NEAR(m[i], mm, 1e-6 * (1 + std::abs(mm)));
      EXPECT_NEAR(v[i], vv, 1e-6 * (1 + std::abs(vv)));
      th -= 0.05 * mhat / (std::sqrt(vhat) + 1e-8);
    }
    // Elementwise float32 arithmetic: atol 1e-6, rtol 1e-6 (README, "Tests").
    EXPECT_NEAR(theta[i], th, 1e-6 + 1e-6 * std::abs(th)) << "param " << i;
  }
}

// Asked for, the update also returns the penalty before its step, reduced in the same pass; the
// parameters move exactly as without the request. Double sums over 100003 terms in another order
// than the oracle's: rtol 1e-12.
TEST_P(FusedUpdate, PenaltyValueInTheSamePass) {
  const UpdateCase c = GetParam();
  if (!c.penalty) GTEST_SKIP() << "no penalty, no value";
  const int n = 100003;
  Rng rng(6);
  std::vector<float> theta(n), grad(n), F(n), anchor(n), m(n), v(n);
  for (int i = 0; i < n; ++i) {
    theta[i] = float(rng.normal()), grad[i] = float(rng.normal()), F[i] = float(rng.uniform());
    anchor[i] = float(rng.normal()), m[i] = float(rng.normal()), v[i] = float(rng.uniform());
  }
  double want = 0.0;
  for (int i = 0; i < n; ++i) want += 0.5 * double(F[i]) * (double(theta[i]) - anchor[i]) * (double(theta[i]) - anchor[i]);
  auto theta2 = theta, m2 = m, v2 = v;
  FusedUpdateArgs a;
  a.grad = grad.data(), a.fisher = F.data(), a.anchor = anchor.data(), a.n = n, a.opt = c.opt;
  a.lr = 0.05f, a.lambda = 2.5f, a.step = 3;
  a.theta = theta.data(), a.m = m.data(), a.v = v.data();
  cpu::fused_update(a);
  double got = -1.0;
  a.theta = theta2.data(), a.m = m2.data(), a.v = v2.data(), a.penalty_value = &got;
  cpu::fused_update(a);
  EXPECT_NEAR(got, want, 1e-12 * want);
  EXPECT_EQ(theta, theta2);
}

INSTANTIATE_TEST_SUITE_P(Optimizers, FusedUpdate,
                         ::testing::Values(UpdateCase{Optimizer::kSgd, false}, UpdateCase{Optimizer::kSgd, true},
                                           UpdateCase{Optimizer::kMomentum, true},
                                           UpdateCase{Optimizer::kAdam, false}, UpdateCase{Optimizer::kAdam, true}),
                         update_case_name);

}  // namespace
}  // namespace clb
