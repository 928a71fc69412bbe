// The baselines of issue 14 (gem, lwf, icarl, der++, packnet): their loss terms against finite
// differences and hand-computed values, a step through the engine's output-loss path against the
// float64 oracle, the replay memory's stored logits, PackNet's frozen weights and zero forgetting,
// and whole runs of each (their resumption is covered by test_resume.cpp, which runs every
// registered strategy).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "framework/consolidation/logit_losses.h"
#include "framework/core/error.h"
#include "framework/engine/engine.h"
#include "framework/model/data_parallel.h"
#include "framework/stream/replay_memory.h"
#include "tests/common/engine_scenario.h"
#include "tests/common/reference_mlp.h"

namespace clb {
namespace {

// Central differences of f around z (double), the gradient a loss term should add.
std::vector<double> numeric_grad(const std::function<double(const std::vector<float>&)>& f, std::vector<float> z) {
  std::vector<double> g(z.size());
  for (size_t c = 0; c < z.size(); ++c) {
    const float keep = z[c], h = 1e-2f;
    z[c] = keep + h;
    const double up = f(z);
    z[c] = keep - h;
    const double down = f(z);
    z[c] = keep;
    g[c] = (up - down) / (2.0 * double(h));
  }
  return g;
}

// Each term's value by hand where it is simple, and its gradient against central differences of
// its value (step 1e-2 on logits of order 1: the float32 logits make the differences good to
// about 1e-4 relative, well inside the 2e-3 allowed).
TEST(LogitLosses, ValuesByHandAndGradientsByFiniteDifferences) {
  {  // mse: z = (1, 2), z* = 0, C = 2: L = (1 + 4) / 2, dL/dz = 2 z / 2 = z
    const float z[] = {1, 2}, zs[] = {0, 0};
    float g[2] = {0, 0};
    EXPECT_DOUBLE_EQ(logit_mse(z, zs, 2, 1.0f, g), 2.5);
    EXPECT_FLOAT_EQ(g[0], 1.0f);
    EXPECT_FLOAT_EQ(g[1], 2.0f);
  }
  {  // bce: z = 0 (s = 1/2), t = 1: L = log 2, dL/dz = -1/2; a masked class adds nothing
    const float z[] = {0, 5}, t[] = {1, 0};
    const uint8_t mask[] = {1, 0};
    float g[2] = {0, 0};
    EXPECT_NEAR(sigmoid_bce(z, t, mask, 2, 1.0f, g), std::log(2.0), 1e-12);
    EXPECT_FLOAT_EQ(g[0], -0.5f);
    EXPECT_EQ(g[1], 0.0f);
  }
  {  // distillation of a model by itself: nothing to learn
    const float z[] = {0.3f, -1.0f, 2.0f};
    const int32_t group[] = {0, 1, 2};
    float g[3] = {0, 0, 0};
    EXPECT_NEAR(distillation(z, z, group, 3, 2.0f, 1.0f, g), 0.0, 1e-12);
    for (float v : g) EXPECT_NEAR(v, 0.0f, 1e-7f);
  }
  Rng rng(3);
  auto random = [&](int n) {
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = float(rng.normal());
    return v;
  };
  const int C = 7;
  const std::vector<float> z = random(C), other = random(C);
  std::vector<float> target(C);
  for (float& t : target) t = float(rng.uniform());
  const std::vector<uint8_t> mask = {1, 0, 1, 1, 0, 1, 1};
  const std::vector<int32_t> group = {0, 2, 5};  // classes outside it get no gradient
  struct Term {
    const char* name;
    std::function<double(const std::vector<float>&, float*)> f;
  };
  const Term terms[] = {
      {"distillation", [&](const std::vector<float>& v, float* g) { return distillation(v.data(), other.data(), group.data(), 3, 2.5f, 0.7f, g); }},
      {"sigmoid_bce", [&](const std::vector<float>& v, float* g) { return sigmoid_bce(v.data(), target.data(), mask.data(), C, 1.3f, g); }},
      {"logit_mse", [&](const std::vector<float>& v, float* g) { return logit_mse(v.data(), other.data(), C, 0.4f, g); }},
  };
  for (const Term& t : terms) {
    std::vector<float> got(C, 0.5f);  // the terms add to what is there
    t.f(z, got.data());
    for (float& g : got) g -= 0.5f;
    std::vector<float> scratch(C);
    const auto want = numeric_grad([&](const std::vector<float>& v) { return t.f(v, scratch.data()); }, z);
    test::expect_close(got, want, 2e-3, 2e-4, t.name);
  }
}

// A double-precision copy of the terms, written from the papers' formulas, for the oracle below.
std::vector<double> softmax_over(const std::vector<double>& z, const std::vector<int>& group, double T) {
  double m = -1e300, s = 0;
  for (int c : group) m = std::max(m, z[size_t(c)] / T);
  for (int c : group) s += std::exp(z[size_t(c)] / T - m);
  std::vector<double> p(z.size(), 0.0);
  for (int c : group) p[size_t(c)] = std::exp(z[size_t(c)] / T - m) / s;
  return p;
}

// One step's gradient through the engine's output-loss path (two shards on 7 rows, a second
// network in the shard's scratch, rows whose cross-entropy is replaced and rows where it is kept)
// against the float64 oracle: rows 0-2 add LwF's distillation from `old`, rows 3-4 replace their
// cross-entropy by DER++'s logit MSE, rows 5-6 add a masked sigmoid BCE.
TEST(OutputLoss, StepGradientMatchesTheFloat64Oracle) {
  auto be = make_backend("cpu");
  const Mlp m(MlpArch::parse("5-4-3"), 1), old(MlpArch::parse("5-4-3"), 2);
  const int B = 7, C = 3;
  Rng rng(9);
  std::vector<float> x(size_t(B) * 5), stored(size_t(B) * C);
  for (float& v : x) v = float(rng.uniform());
  for (float& v : stored) v = float(rng.normal());
  const std::vector<int32_t> y = {0, 1, 2, 2, 1, 0, 1};
  const std::vector<int32_t> group = {0, 2};
  const std::vector<uint8_t> bce_mask = {1, 1, 0};
  const std::vector<float> bce_target = {0.2f, 0.9f, 0.5f};
  const float T = 2.0f, w_kd = 0.8f, w_mse = 0.6f, w_bce = 1.5f;
  OutputLoss loss = [&](const OutputRows& r) {
    forward(*r.be, view(old), Batch{r.rows.x, nullptr, nullptr, r.rows.B}, r.scratch->buffers());
    const float* zo = r.scratch->act.back().data();
    for (int i = 0; i < r.rows.B; ++i) {
      const int row = r.begin + i;
      const float* z = r.logits + i * C;
      float* d = r.delta + i * C;
      if (row < 3) r.loss[i] += float(distillation(z, zo + i * C, group.data(), 2, T, w_kd, d));
      if (row == 3 || row == 4) {
        std::fill_n(d, C, 0.0f);
        r.loss[i] = float(logit_mse(z, stored.data() + row * C, C, w_mse, d));
      }
      if (row >= 5) r.loss[i] += float(sigmoid_bce(z, bce_target.data(), bce_mask.data(), C, w_bce, d));
    }
  };
  ParallelWorkspace pw(m.arch, B, 2, true);
  std::vector<float> grad(size_t(m.arch.num_params()));
  const Batch b{x.data(), y.data(), nullptr, B};
  const double mean_loss = compute_gradients(*be, m, b, pw, grad.data(), &loss);

  std::vector<double> want(grad.size(), 0.0);
  double want_loss = 0;
  for (int i = 0; i < B; ++i) {
    const test::RefSample s = test::ref_forward(m, x.data() + i * 5);
    const std::vector<double>& z = s.act.back();
    std::vector<double> d = s.probs;
    d[size_t(y[size_t(i)])] -= 1;
    double li = -std::log(s.probs[size_t(y[size_t(i)])]);
    if (i < 3) {  // w T^2 KL(q || p) over the group; dL/dz = w T (p - q)
      const std::vector<double> zo = test::ref_forward(old, x.data() + i * 5).act.back();
      const auto p = softmax_over(z, {0, 2}, T), q = softmax_over(zo, {0, 2}, T);
      for (int c : {0, 2}) {
        li += w_kd * T * T * q[size_t(c)] * std::log(q[size_t(c)] / p[size_t(c)]);
        d[size_t(c)] += w_kd * T * (p[size_t(c)] - q[size_t(c)]);
      }
    } else if (i < 5) {  // w (1/C) sum (z - z*)^2 replaces the cross-entropy
      li = 0;
      for (int c = 0; c < C; ++c) {
        const double e = z[size_t(c)] - stored[size_t(i * C + c)];
        li += w_mse * e * e / C;
        d[size_t(c)] = w_mse * 2 * e / C;
      }
    } else {  // w sum over allowed c of BCE(sigmoid(z_c), t_c)
      for (int c = 0; c < C; ++c) {
        if (!bce_mask[size_t(c)]) continue;
        const double sg = 1 / (1 + std::exp(-z[size_t(c)])), t = bce_target[size_t(c)];
        li += -w_bce * (t * std::log(sg) + (1 - t) * std::log(1 - sg));
        d[size_t(c)] += w_bce * (sg - t);
      }
    }
    want_loss += li / B;
    const auto g = test::ref_backward(m, s, d);
    for (size_t k = 0; k < g.size(); ++k) want[k] += g[k] / B;
  }
  // float32 passes against double: sums of a handful of products, ~1e-6 relative.
  test::expect_close(grad, want, 1e-4, 1e-5, "gradient");
  EXPECT_NEAR(mean_loss, want_loss, 1e-5 * std::abs(want_loss));
}

// DER++'s logits travel with their sample: whatever the reservoir keeps or replaces, a drawn row's
// payload is the one offered with it.
TEST(ReplayMemoryPayload, EachDrawnRowCarriesWhatWasOfferedWithIt) {
  const Scenario s = test::mixed_scenario();
  ReplayBufferConfig cfg;
  cfg.max_samples = 40;
  ReplayMemory memory(s, 6, cfg, 7, 2);
  std::vector<SampleRef> refs = sample_refs(s.tasks[0], Split::kTrain);
  std::vector<float> payload;
  for (const SampleRef& r : refs) payload.push_back(float(s.tasks[0].train->y[size_t(r.row)])), payload.push_back(float(r.row));
  memory.offer(refs.data(), int(refs.size()), payload.data());
  const Batch* b = memory.draw(25);
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(b->B, 25);
  for (int i = 0; i < b->B; ++i) {
    const float* p = memory.drawn_payload() + 2 * i;
    EXPECT_EQ(p[0], float(b->y[i]));
    const float* x = s.tasks[0].train->row(int64_t(p[1]));  // the row the payload names is the row drawn
    EXPECT_EQ(std::memcmp(x, b->x + 24 * i, 24 * sizeof(float)), 0) << i;
  }
}

RunConfig baseline_config() {
  RunConfig cfg;
  cfg.optimizer = Optimizer::kAdam, cfg.lr = 3e-3f, cfg.batch = 32, cfg.epochs = 2, cfg.lambda = 1.0f;
  cfg.lca_batches = 2, cfg.eval_batch = 50;
  cfg.memory.max_samples = 60;
  return cfg;
}

// PackNet: a task's weights are bitwise what its task left them at every later task end, so every
// test set scores after later tasks exactly what it scored after its own (BWT 0, no forgetting).
TEST(PackNet, OldTasksWeightsStayBitwiseAndForgettingIsZero) {
  auto be = make_backend("cpu");
  const Scenario s = test::mixed_scenario();
  const Mlp init(MlpArch::parse("24-16-12-6"), 3);
  auto st = make_strategy("packnet", {}, init.arch.num_params());
  std::vector<std::vector<float>> params;
  std::vector<std::vector<int16_t>> owners;
  RunControl control;
  control.on_task_end = [&](StateArchive& a) {
    params.push_back(a.floats("engine.params"));
    owners.push_back(a.get<std::vector<int16_t>>("strategy.owner"));
  };
  const RunResult r = run_strategy(*be, s, init, *st, baseline_config(), 5, nullptr, control);
  ASSERT_EQ(params.size(), 2u);  // after tasks 1 and 2 of 3
  params.push_back(r.final_model.params);
  for (int k = 0; k < 2; ++k) {
    int64_t owned = 0;
    for (size_t j = 0; j < params[0].size(); ++j) {
      if (owners[size_t(k)][j] < 0 || owners[size_t(k)][j] > k) continue;
      ++owned;
      for (size_t later = size_t(k) + 1; later < params.size(); ++later)
        ASSERT_EQ(std::memcmp(&params[size_t(k)][j], &params[later][j], sizeof(float)), 0)
            << "parameter " << j << " of task " << k + 1 << " changed by task " << later + 1;
    }
    EXPECT_GT(owned, 0) << k;
  }
  for (int k = 0; k < 3; ++k)
    for (int t = k + 1; t < 3; ++t) EXPECT_EQ(r.acc[size_t(t)][size_t(k)], r.acc[size_t(k)][size_t(k)]) << t << "," << k;
  EXPECT_EQ(r.metrics.bwt, 0.0);
  EXPECT_NE(r.memory.find("parameters each task is tested with"), std::string::npos) << r.memory;
}

// Every baseline runs a whole sequence on the CPU engine, keeps what it says, and learns.
TEST(Baselines, EachRunsAndSaysWhatItKeeps) {
  auto be = make_backend("cpu");
  const Scenario s = test::mixed_scenario();
  const Mlp init(MlpArch::parse("24-16-12-6"), 3);
  const std::pair<const char*, const char*> expect[] = {
      {"gem", "3 per-task memories of 20 samples, 60 held"},
      {"lwf", "the previous model's parameters"},
      {"icarl", "herded exemplars, 60 of 60 samples in 12 sets over 6 classes"},
      {"der++", "reservoir, 60 of 60 samples (float32, 0.01 MiB), 450 seen, with 6 stored logits each"},
      {"packnet", "parameters each task is tested with (its own and its predecessors'):"},
  };
  for (const auto& [name, memory] : expect) {
    auto st = make_strategy(name, {}, init.arch.num_params());
    const RunResult r = run_strategy(*be, s, init, *st, baseline_config(), 11, nullptr);
    EXPECT_NE(r.memory.find(memory), std::string::npos) << name << ": " << r.memory;
    EXPECT_GT(r.strategy_bytes, 0) << name;
    EXPECT_GT(r.metrics.acc, 0.0) << name;
    EXPECT_EQ(r.strategy, name);
  }
}

// icarl and packnet choose per task, so detected boundaries are refused naming the setting.
TEST(Baselines, IcarlAndPacknetNeedGivenBoundaries) {
  auto be = make_backend("cpu");
  const Scenario s = test::mixed_scenario();
  const Mlp init(MlpArch::parse("24-16-12-6"), 3);
  for (const char* name : {"icarl", "packnet"}) {
    auto st = make_strategy(name, {}, init.arch.num_params());
    RunConfig cfg = baseline_config();
    cfg.detect_boundaries = true;
    const std::string what = test::error_of([&] { run_strategy(*be, s, init, *st, cfg, 11, nullptr); });
    EXPECT_NE(what.find("task_boundaries given"), std::string::npos) << name << ": " << what;
  }
}

}  // namespace
}  // namespace clb
