// The data-parallel CPU path (batch shards per thread, blocked reduction fused with the update)
// against the single-shard path it splits.
#include <gtest/gtest.h>

#include "framework/model/data_parallel.h"
#include "tests/common/test_helpers.h"

namespace clb::test {
namespace {

class Shards : public ::testing::TestWithParam<int> {};  // batch size

std::vector<double> to_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }

TEST_P(Shards, GradientsMatchOneShard) {
  const int B = GetParam();
  const MlpArch arch = MlpArch::parse("31-300-57-10");  // > 8192 params: several update blocks
  const Mlp m(arch, 4);
  auto tasks = random_tasks(B, arch.input_dim(), arch.num_outputs(), 6);
  auto refs = sample_refs(tasks[0], Split::kTrain);
  BatchBuffers buf;
  gather(tasks, Split::kTrain, refs.data(), B, arch.num_outputs(), buf);
  auto be = make_backend("cpu");
  MlpWorkspace one(arch, B);
  std::vector<float> want(arch.num_params()), got(arch.num_params());
  const double loss1 = compute_gradients(*be, m, buf.batch, one, want.data()) / B;
  ParallelWorkspace pw(arch, B, 3);  // 3 shards whatever the core count: uneven splits
  const double loss3 = compute_gradients(*be, m, buf.batch, pw, got.data());
  // Same products, other summation order across shards: rtol 1e-5 with a floor of 1e-6 of the
  // largest entry (fp32 sums of <= 257 terms).
  expect_close(got, to_double(want), 1e-5, 1e-6, "grad");
  EXPECT_NEAR(loss3, loss1, 1e-6 * loss1);
}

TEST_P(Shards, TrainStepIsGradientThenFusedUpdate) {
  const int B = GetParam();
  const MlpArch arch = MlpArch::parse("31-300-57-10");
  Mlp a(arch, 5), b(arch, 5);
  auto tasks = random_tasks(B, arch.input_dim(), arch.num_outputs(), 7);
  auto refs = sample_refs(tasks[0], Split::kTrain);
  BatchBuffers buf;
  gather(tasks, Split::kTrain, refs.data(), B, arch.num_outputs(), buf);
  auto be = make_backend("cpu");
  const int64_t P = arch.num_params();
  std::vector<float> F(P), anchor(P), ga(P), gb(P), ma(P, 0.f), va(P, 0.f), mb(P, 0.f), vb(P, 0.f);
  Rng rng(8);
  for (int64_t k = 0; k < P; ++k) F[k] = float(rng.uniform()), anchor[k] = a.params[k] + 0.1f * float(rng.normal());
  auto args = [&](Mlp& m, std::vector<float>& g, std::vector<float>& mm, std::vector<float>& vv) {
    FusedUpdateArgs u;
    u.theta = m.params.data(), u.grad = g.data(), u.fisher = F.data(), u.anchor = anchor.data();
    u.m = mm.data(), u.v = vv.data(), u.n = P, u.opt = Optimizer::kAdam, u.lr = 1e-3f, u.lambda = 3.0f;
    return u;
  };
  MlpWorkspace one(arch, B);
  ParallelWorkspace pw(arch, B, 2);
  for (int step = 1; step <= 3; ++step) {
    FusedUpdateArgs ua = args(a, ga, ma, va), ub = args(b, gb, mb, vb);
    ua.step = ub.step = step;
    compute_gradients(*be, a, buf.batch, one, ga.data());
    be->fused_update(ua);
    train_step(*be, b, buf.batch, pw, ub);
  }
  // Adam normalises each step, so gradient rounding differences stay at the float32 level of
  // the parameters: atol 1e-6 + rtol 1e-5.
  expect_close(b.params, to_double(a.params), 1e-5, 1e-6, "params after 3 steps");
}

INSTANTIATE_TEST_SUITE_P(Batches, Shards, ::testing::Values(1, 31, 65, 257));

}  // namespace
}  // namespace clb::test
