// SI's and MAS's importances (framework/consolidation/importance.h) against brute-force references: MAS against
// float64 finite differences of ||z||^2 per sample, SI's path integral against steps replayed by
// hand.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>

#include "framework/model/data_parallel.h"
#include "framework/engine/engine.h"
#include "framework/consolidation/importance.h"
#include "tests/common/test_helpers.h"

namespace clb {
namespace {

// ||z_L(x)||^2 over the allowed classes, in double, for parameters p (Mlp::params layout).
double logit_norm2(const MlpArch& arch, const std::vector<double>& p, const float* x, const uint8_t* mask) {
  std::vector<double> a(x, x + arch.input_dim());
  for (int l = 0; l < arch.num_layers(); ++l) {
    std::vector<double> z(size_t(arch.out(l)));
    for (int o = 0; o < arch.out(l); ++o) {
      double s = p[size_t(arch.bias_offset(l) + o)];
      for (int i = 0; i < arch.in(l); ++i) s += p[size_t(arch.weight_offset(l) + int64_t(o) * arch.in(l) + i)] * a[size_t(i)];
      z[size_t(o)] = l + 1 < arch.num_layers() ? std::max(s, 0.0) : s;
    }
    a = z;
  }
  double n2 = 0;
  for (size_t c = 0; c < a.size(); ++c)
    if (!mask || mask[c]) n2 += a[c] * a[c];
  return n2;
}

// MAS: mean over samples of |d ||z||^2 / d theta| by central differences in double (h = 1e-6:
// truncation error ~h^2, rounding ~1e-16/h, both far below the float32 result's 1e-4).
TEST(Importance, MasMatchesFiniteDifferencesPerSample) {
  const std::vector<uint8_t> mask{1, 0, 1};
  for (bool masked : {false, true}) {
    auto tasks = test::random_tasks(7, 5, 3, 21, masked ? mask : std::vector<uint8_t>{});
    const Mlp m(MlpArch::parse("5-4-4-3"), 8);
    auto be = make_backend("cpu");
    const auto refs = sample_refs(tasks[0], Split::kTrain);
    const std::vector<float> got = mas_importance(*be, m, tasks, refs, 3);  // passes of 3, 3 and 1
    std::vector<double> p(m.params.begin(), m.params.end()), want(p.size(), 0.0);
    for (const SampleRef& r : refs) {
      const float* x = tasks[0].train->row(r.row);
      for (size_t k = 0; k < p.size(); ++k) {
        const double h = 1e-6, keep = p[k];
        p[k] = keep + h;
        const double up = logit_norm2(m.arch, p, x, masked ? mask.data() : nullptr);
        p[k] = keep - h;
        const double down = logit_norm2(m.arch, p, x, masked ? mask.data() : nullptr);
        p[k] = keep;
        want[k] += std::abs(up - down) / (2 * h) / double(refs.size());
      }
    }
    double biggest = 0;
    for (double w : want) biggest = std::max(biggest, w);
    ASSERT_GT(biggest, 0);
    for (size_t k = 0; k < p.size(); ++k) EXPECT_NEAR(got[k], want[k], 1e-4 * biggest) << "param " << k << " masked " << masked;
  }
}

struct OneThread {
  int saved = omp_get_max_threads();
  OneThread() { omp_set_num_threads(1); }
  ~OneThread() { omp_set_num_threads(saved); }
};

// SI: the engine's path integral is -sum g . (theta change) over the steps taken, which for plain
// SGD is lr sum g^2; replayed here step by step with the same gradients (one thread: the same
// sums, so the same floats).
TEST(Importance, SiPathIntegralMatchesTheStepsReplayedByHand) {
  OneThread one;
  auto be = make_backend("cpu");
  const auto tasks = test::random_tasks(40, 6, 3, 22);
  const Mlp init(MlpArch::parse("6-5-3"), 9);
  EngineConfig ec;
  ec.optimizer = Optimizer::kSgd, ec.lr = 0.05f, ec.batch = 8, ec.track_path = true;
  auto engine = make_engine(*be, tasks, init, ec, EngineKind::kHost);
  engine->begin_task();
  const auto refs = sample_refs(tasks[0], Split::kTrain);
  engine->set_order(refs);
  for (int s = 0; s < 5; ++s) engine->train_next(8);

  Mlp m = init;
  std::vector<float> omega(m.params.size(), 0.0f), g(m.params.size());
  ParallelWorkspace pw(m.arch, 8, 1);
  BatchBuffers buf;
  for (int s = 0; s < 5; ++s) {
    gather(tasks, Split::kTrain, refs.data() + 8 * s, 8, 3, buf);
    compute_gradients(*be, m, buf.batch, pw, g.data());
    for (size_t k = 0; k < g.size(); ++k) {
      const float before = m.params[k];
      m.params[k] -= ec.lr * g[k];
      omega[k] -= g[k] * (m.params[k] - before);
    }
  }
  const PathIntegral path = engine->take_path_integral();
  EXPECT_EQ(path.theta_start, init.params);
  ASSERT_EQ(path.omega.size(), omega.size());
  double biggest = 0;
  for (float w : omega) biggest = std::max(biggest, double(w));
  ASSERT_GT(biggest, 0);
  for (size_t k = 0; k < omega.size(); ++k) EXPECT_NEAR(path.omega[k], omega[k], 1e-6 * biggest) << k;
  // A new integral starts where the last one was taken.
  std::vector<float> now;
  engine->read_params(now);
  const PathIntegral next = engine->take_path_integral();
  EXPECT_EQ(next.theta_start, now);
  EXPECT_EQ(next.omega, std::vector<float>(now.size(), 0.0f));
}

TEST(Importance, SiDividesByTheSquaredChangePlusDamping) {
  const auto out = si_importance({2.0f, -1.0f, 0.5f}, {0.0f, 0.0f, 1.0f}, {1.0f, 3.0f, 1.0f}, 0.1f);
  EXPECT_FLOAT_EQ(out[0], 2.0f / 1.1f);
  EXPECT_FLOAT_EQ(out[1], 0.0f) << "a negative path integral gives no importance";
  EXPECT_FLOAT_EQ(out[2], 0.5f / 0.1f);
}

}  // namespace
}  // namespace clb
