// The replay family (issue 5): A-GEM's projection against a float64 oracle, the host engine's
// replay steps against the steps they stand for, and whole runs of er / agem / ewc+er.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>

#include "framework/consolidation/agem_projection.h"
#include "framework/model/data_parallel.h"
#include "framework/core/error.h"
#include "framework/model/evaluate.h"
#include "tests/common/engine_scenario.h"

namespace clb {
namespace {

struct OneThread {  // one shard: the same sums in the same order on both sides of a comparison
  int saved = omp_get_max_threads();
  OneThread() { omp_set_num_threads(1); }
  ~OneThread() { omp_set_num_threads(saved); }
};

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t k = 0; k < a.size(); ++k) s += double(a[k]) * b[k];
  return s;
}
double norm(const std::vector<float>& a) { return std::sqrt(dot(a, a)); }

// The projected gradient never opposes g_ref and is g minus its component along g_ref (float64
// oracle; tolerance: the float32 rounding of g - c g_ref, a few ulps of |g| per element, so
// |g' . g_ref| <= 1e-6 |g| |g_ref| and elementwise 1e-6 of |g|'s largest entry).
TEST(Agem, ProjectionNeverOpposesTheReference) {
  Rng rng(5);
  int projected = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const int n = 1 + int(rng.below(1000));
    std::vector<float> g(n), ref(n);
    for (auto& v : g) v = float(rng.normal());
    for (auto& v : ref) v = float(rng.normal());
    if (trial % 2 == 0)  // half the trials: make g oppose ref
      for (int k = 0; k < n; ++k) g[size_t(k)] -= 2.0f * ref[size_t(k)];
    const std::vector<float> g0 = g;
    const double d = dot(g0, ref), rr = dot(ref, ref);
    const bool did = agem_project(g.data(), ref.data(), n);
    EXPECT_EQ(did, d < 0) << "trial " << trial;
    if (d >= 0) {
      EXPECT_EQ(std::memcmp(g.data(), g0.data(), size_t(n) * sizeof(float)), 0) << "unchanged when it does not oppose";
      continue;
    }
    ++projected;
    EXPECT_GE(dot(g, ref), -1e-6 * norm(g0) * norm(ref)) << "trial " << trial;
    double biggest = 0;
    for (float v : g0) biggest = std::max(biggest, double(std::abs(v)));
    for (int k = 0; k < n; ++k)
      ASSERT_NEAR(g[size_t(k)], double(g0[size_t(k)]) - d / rr * ref[size_t(k)], 1e-6 * biggest) << k;
  }
  EXPECT_GE(projected, 100);
  std::vector<float> g{1.0f, -2.0f}, zero{0.0f, 0.0f};
  EXPECT_FALSE(agem_project(g.data(), zero.data(), 2));
  EXPECT_EQ(g, (std::vector<float>{1.0f, -2.0f}));
}

// Rows [from, from + n) of the single task's training set as a host batch.
struct Rows {
  BatchBuffers buf;
  Rows(const std::vector<Task>& tasks, int from, int n, int outputs) {
    std::vector<SampleRef> refs;
    for (int i = 0; i < n; ++i) refs.push_back({0, int32_t(from + i)});
    gather(tasks, Split::kTrain, refs.data(), n, outputs, buf);
  }
};

EngineConfig sgd_config(int batch, int memory_batch) {
  EngineConfig c;
  c.optimizer = Optimizer::kSgd, c.lr = 0.1f, c.batch = batch, c.memory_batch = memory_batch;
  return c;
}

// ER's step is one step on the batch joined with the memory rows: the same parameters, bitwise,
// as the plain step on the 64 rows.
TEST(HostEngine, MixedStepIsOneStepOnTheJoinedBatch) {
  OneThread one;
  auto be = make_backend("cpu");
  const auto tasks = test::random_tasks(64, 12, 4, 9);
  const Mlp init(MlpArch::parse("12-10-4"), 2);
  const auto refs = sample_refs(tasks[0], Split::kTrain);
  auto mixed = make_host_engine(*be, tasks, init, sgd_config(32, 32));
  mixed->begin_task();
  mixed->set_order(std::vector<SampleRef>(refs.begin(), refs.begin() + 32));
  const Rows memory(tasks, 32, 32, 4);
  mixed->train_next_with_memory(32, memory.buf.batch, MemoryRowsUse::kJoin);
  auto plain = make_host_engine(*be, tasks, init, sgd_config(64, 0));
  plain->begin_task();
  plain->set_order(refs);
  plain->train_next(64);
  std::vector<float> a, b;
  mixed->read_params(a);
  plain->read_params(b);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
  EXPECT_EQ(mixed->take_losses(), plain->take_losses());
}

// A-GEM's step does not raise the memory's loss to first order: with SGD, the parameter change
// -lr g' satisfies g_ref . (theta1 - theta0) <= 0, where the unprojected step's is > 0 (the new
// rows all say class 0, the memory rows are the same inputs saying class 1: the gradients conflict).
TEST(HostEngine, AgemStepDoesNotRaiseTheMemoryLossToFirstOrder) {
  OneThread one;
  auto be = make_backend("cpu");
  auto tasks = test::random_tasks(64, 12, 4, 10);
  auto relabelled = std::make_shared<Dataset>(*tasks[0].train);
  for (int i = 0; i < 32; ++i) {
    std::copy(relabelled->row(i), relabelled->row(i) + 12, relabelled->x.begin() + (i + 32) * 12);
    relabelled->y[size_t(i)] = 0, relabelled->y[size_t(i + 32)] = 1;
  }
  tasks[0].train = relabelled;
  const Mlp init(MlpArch::parse("12-10-4"), 2);
  const Rows batch(tasks, 0, 32, 4), memory(tasks, 32, 32, 4);
  ParallelWorkspace pw(init.arch, 32, 1);
  std::vector<float> g(size_t(init.arch.num_params())), g_ref(g.size());
  compute_gradients(*be, init, batch.buf.batch, pw, g.data());
  compute_gradients(*be, init, memory.buf.batch, pw, g_ref.data());
  ASSERT_LT(dot(g, g_ref), 0) << "the case must need a projection";

  auto engine = make_host_engine(*be, tasks, init, sgd_config(32, 32));
  engine->begin_task();
  const auto refs = sample_refs(tasks[0], Split::kTrain);
  engine->set_order(std::vector<SampleRef>(refs.begin(), refs.begin() + 32));
  engine->train_next_with_memory(32, memory.buf.batch, MemoryRowsUse::kProject);
  std::vector<float> theta1;
  engine->read_params(theta1);
  std::vector<float> step(theta1.size());
  for (size_t k = 0; k < step.size(); ++k) step[k] = theta1[k] - init.params[k];
  EXPECT_LE(dot(step, g_ref), 1e-6 * norm(step) * norm(g_ref));
  EXPECT_GT(-0.1 * dot(g, g_ref), 0) << "while the plain SGD step (lr 0.1) would have raised it";
  EXPECT_GT(norm(step), 0) << "and the step still moves";
}

RunConfig replay_config(int64_t memory_samples) {
  RunConfig cfg;
  cfg.optimizer = Optimizer::kAdam, cfg.lr = 3e-3f, cfg.batch = 32, cfg.epochs = 2, cfg.lambda = 5.0f;
  cfg.lca_batches = 3, cfg.eval_batch = 50;
  cfg.memory.max_samples = memory_samples;
  return cfg;
}

// Whole runs on the mixed scenario (pixel maps, class masks, a short last minibatch): the memory
// fills to its size, is counted in what the strategy holds, and is named in the result.
TEST(ReplayRuns, MemoryIsFilledCountedAndNamed) {
  auto be = make_backend("cpu");
  const Scenario s = test::mixed_scenario();
  const Mlp init(MlpArch::parse("24-16-12-6"), 3);
  for (const std::string name : {"er", "agem", "ewc+er"}) {
    auto st = make_strategy(name, {}, init.arch.num_params());
    const RunResult r = run_strategy(*be, s, init, *st, replay_config(100), 11, nullptr);
    const int64_t memory_bytes = 100 * (24 * 4 + 8);  // random features: float32 storage
    const int64_t penalty_bytes = st->penalty() ? st->penalty()->bytes_held() : 0;
    EXPECT_EQ(name == "ewc+er", penalty_bytes > 0) << name;
    EXPECT_EQ(r.strategy_bytes, memory_bytes + penalty_bytes) << name;
    EXPECT_EQ(r.memory, "reservoir, 100 of 100 samples (float32, 0.01 MiB), 450 seen") << name;
    EXPECT_GT(r.metrics.acc, 0.0) << name;
  }
  auto naive = make_strategy("naive", {}, init.arch.num_params());
  EXPECT_EQ(run_strategy(*be, s, init, *naive, replay_config(100), 11, nullptr).memory, "");
}

}  // namespace
}  // namespace clb
