// Every Fisher estimator against an explicit per-sample loop in float64 on random nets.
#include <gtest/gtest.h>

#include "framework/backend/backend.h"
#include "framework/consolidation/fisher.h"
#include "framework/core/rng.h"
#include "tests/common/reference_mlp.h"
#include "tests/common/test_helpers.h"

namespace clb::test {
namespace {

struct Case {
  const char* arch;
  int N;
  int batch;  // rows per pass: results must not depend on it
  bool masked;
};

class FisherEstimators : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    const Case c = GetParam();
    arch = MlpArch::parse(c.arch);
    model = Mlp(arch, 21);
    C = arch.num_outputs();
    if (c.masked) {
      mask.assign(C, 0);
      mask[1] = mask[C - 1] = 1;
    }
    tasks = random_tasks(c.N, arch.input_dim(), C, 9, mask);
    refs = sample_refs(tasks[0], Split::kTrain);
  }
  const float* x(int i) const { return tasks[0].train->row(i); }
  int y(int i) const { return tasks[0].train->y[i]; }
  const uint8_t* mk() const { return mask.empty() ? nullptr : mask.data(); }

  std::vector<float> product(FisherEstimator e, int draws = 1, uint64_t seed = 0) {
    FisherConfig cfg;
    cfg.estimator = e;
    cfg.batch = GetParam().batch;
    cfg.draws = draws;
    cfg.seed = seed;
    auto be = make_backend("cpu");
    return compute_fisher(*be, model, tasks, refs, cfg);
  }
  void add_sq(std::vector<double>& F, const std::vector<double>& g, double w) {
    for (size_t k = 0; k < g.size(); ++k) F[k] += w * g[k] * g[k];
  }

  MlpArch arch;
  Mlp model;
  int C = 0;
  std::vector<uint8_t> mask;
  std::vector<Task> tasks;
  std::vector<SampleRef> refs;
};

// Sums of squares over N <= 257 samples in fp32 against float64: rtol 1e-4, with a floor of 1e-6
// of the largest entry for the entries that are (near) zero.
constexpr double kRtol = 1e-4, kAtolFrac = 1e-6;

TEST_P(FisherEstimators, Empirical) {
  const int N = GetParam().N;
  std::vector<double> want(arch.num_params(), 0.0);
  for (int i = 0; i < N; ++i) add_sq(want, ref_sample_grad(model, x(i), y(i), mk()), 1.0 / N);
  expect_close(product(FisherEstimator::kEmpirical), want, kRtol, kAtolFrac, "empirical");
}

TEST_P(FisherEstimators, Exact) {
  const int N = GetParam().N;
  std::vector<double> want(arch.num_params(), 0.0);
  for (int i = 0; i < N; ++i) {
    const auto p = ref_forward(model, x(i), mk()).probs;
    for (int c = 0; c < C; ++c)
      if (p[c] > 0) add_sq(want, ref_sample_grad(model, x(i), c, mk()), p[c] / N);
  }
  expect_close(product(FisherEstimator::kExact), want, kRtol, kAtolFrac, "exact");
}

TEST_P(FisherEstimators, SampledUsesSeededDrawsFromTheModel) {
  const int N = GetParam().N, K = 3;
  const uint64_t seed = 77;
  // The oracle replays the documented draw order: one Rng::derive(seed, 0xF15, first row) stream
  // per pass of `batch` rows, K uniforms per sample in sample order, inverted through the
  // cumulative softmax.
  const int batch = GetParam().batch;
  Rng rng(0);
  std::vector<double> want(arch.num_params(), 0.0);
  for (int i = 0; i < N; ++i) {
    if (i % batch == 0) rng = Rng::derive(seed, 0xF15, uint64_t(i));
    const auto p = ref_forward(model, x(i), mk()).probs;
    for (int k = 0; k < K; ++k) {
      const double u = rng.uniform();
      double cum = 0;
      int label = -1;
      for (int c = 0; c < C && label < 0; ++c)
        if ((cum += p[c]) > u) label = c;
      ASSERT_GE(label, 0);
      ASSERT_TRUE(mask.empty() || mask[label]) << "drew a masked-out class";
      add_sq(want, ref_sample_grad(model, x(i), label, mk()), 1.0 / (N * K));
    }
  }
  expect_close(product(FisherEstimator::kSampled, K, seed), want, kRtol, kAtolFrac, "sampled");
}

TEST_P(FisherEstimators, BatchIsSquaredMinibatchMeanGradient) {
  const int N = GetParam().N, Bm = GetParam().batch;
  const int batches = (N + Bm - 1) / Bm;
  std::vector<double> want(arch.num_params(), 0.0);
  for (int s = 0; s < N; s += Bm) {
    const int B = std::min(Bm, N - s);
    std::vector<double> mean(arch.num_params(), 0.0);
    for (int i = s; i < s + B; ++i) {
      const auto g = ref_sample_grad(model, x(i), y(i), mk());
      for (size_t k = 0; k < g.size(); ++k) mean[k] += g[k] / B;
    }
    add_sq(want, mean, 1.0 / batches);
  }
  expect_close(product(FisherEstimator::kBatch), want, kRtol, 1e-5, "batch");
}

TEST_P(FisherEstimators, SampledConvergesToExact) {
  // Many draws: the Monte-Carlo estimate approaches the exact Fisher (a sanity check of the
  // estimator's meaning, loose by nature: 1000 draws, the most allowed, give ~2-3% noise on the
  // trace of these small nets).
  const auto exact = product(FisherEstimator::kExact);
  const auto sampled = product(FisherEstimator::kSampled, kMaxFisherDraws, 5);
  double te = 0, ts = 0;
  for (size_t k = 0; k < exact.size(); ++k) te += exact[k], ts += sampled[k];
  EXPECT_NEAR(ts / te, 1.0, 0.05);
}

INSTANTIATE_TEST_SUITE_P(Awkward, FisherEstimators,
                         ::testing::Values(Case{"1-3-2", 1, 1, false}, Case{"31-17-5", 31, 8, false},
                                           Case{"31-17-5", 31, 31, true}, Case{"13-9-9-10", 257, 64, false},
                                           Case{"13-9-9-10", 257, 257, true}),
                         [](const auto& info) {
                           return arch_name(info.param.arch) + "_N" + std::to_string(info.param.N) + "_pass" +
                                  std::to_string(info.param.batch) + (info.param.masked ? "_masked" : "");
                         });

}  // namespace
}  // namespace clb::test
