// The resident engine (framework/engine/engine.h) against the host engine on the CPU backend. With one
// thread both issue the same ops on the same numbers in the same order, so everything must agree
// bitwise: accuracy matrices, LCA curves, final parameters, losses and every Fisher estimator.
// The CPU backend records a step as a tape of ops with their arguments (like a CUDA graph), so
// an argument baked into the recording where it should be read from the StepCounters fails here.
#include <gtest/gtest.h>
#include <omp.h>

#include <cstring>

#include "kernels/cpu/cpu_ops.h"
#include "framework/core/error.h"
#include "framework/harness/task_loop.h"
#include "framework/strategies/registry.h"
#include "tests/common/engine_scenario.h"
#include "tests/common/reference_mlp.h"

namespace clb {
namespace {

// One thread for the test's duration: the host engine's data parallelism would otherwise split
// sums differently from the resident engine's single stream (last-bit differences).
struct OneThread {
  int saved = omp_get_max_threads();
  OneThread() { omp_set_num_threads(1); }
  ~OneThread() { omp_set_num_threads(saved); }
};

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

RunResult run(EngineKind kind, const std::string& strategy, Optimizer opt, bool record = true,
              const Scenario& s = test::mixed_scenario()) {
  auto be = make_backend("cpu");
  const Mlp init(MlpArch::parse("24-16-12-6"), 3);
  RunConfig cfg;
  cfg.optimizer = opt;
  cfg.lr = opt == Optimizer::kAdam ? 3e-3f : 0.05f;
  cfg.batch = 32;  // 150 samples: four full minibatches and a short one of 22
  cfg.epochs = 2;
  cfg.lambda = 5.0f;
  cfg.lca_batches = 3;
  cfg.eval_batch = 50;  // test sets of 70: evaluation passes span two tasks
  cfg.fisher.estimator = FisherEstimator::kExact;
  cfg.memory.max_samples = 100;  // replay strategies: a memory smaller than the stream, so it samples
  cfg.engine = kind;
  cfg.record_steps = record;
  auto st = make_strategy(strategy, {}, init.arch.num_params());
  return run_strategy(*be, s, init, *st, cfg, 11, nullptr);
}

void expect_same_run(const RunResult& a, const RunResult& b) {
  EXPECT_EQ(a.acc, b.acc);
  EXPECT_EQ(a.init_acc, b.init_acc);
  EXPECT_EQ(a.lca_curves, b.lca_curves);
  EXPECT_TRUE(bitwise_equal(a.final_model.params, b.final_model.params));
  EXPECT_EQ(a.train_samples, b.train_samples);
  EXPECT_EQ(a.eval_samples, b.eval_samples);
  EXPECT_EQ(a.penalty_trace, b.penalty_trace);
}

TEST(ResidentEngine, WholeRunsMatchTheHostEngineBitwise) {
  OneThread one;
  // Every strategy: replay rows joined (er, ewc+er) or projected against (agem), SI's path integral
  // and the planned steps (gem, lwf, icarl, der++, packnet: output losses, gradient and parameter
  // edits, predictors) take host round trips there, with the host engine's arithmetic.
  for (const char* strategy : {"naive", "ewc", "online-ewc", "joint", "l2", "mas", "si", "er", "agem", "ewc+er", "gem",
                               "lwf", "icarl", "der++", "packnet"})
    for (Optimizer opt : {Optimizer::kSgd, Optimizer::kMomentum, Optimizer::kAdam}) {
      SCOPED_TRACE(std::string(strategy) + " optimizer " + std::to_string(int(opt)));
      const RunResult host = run(EngineKind::kHost, strategy, opt), resident = run(EngineKind::kResident, strategy, opt);
      expect_same_run(host, resident);
    }
  // The runs moved the parameters, differently per strategy: agreeing is not trivial. (The labels
  // are random, so accuracy itself says little here; tests/framework/harness/test_harness.cpp checks learning.)
  const RunResult naive = run(EngineKind::kResident, "naive", Optimizer::kSgd),
                  ewc = run(EngineKind::kResident, "ewc", Optimizer::kSgd);
  EXPECT_FALSE(bitwise_equal(naive.final_model.params, ewc.final_model.params));
  EXPECT_FALSE(bitwise_equal(naive.final_model.params, Mlp(naive.final_model.arch, 3).params));
}

// Image data is held as bytes and divided by 255 where a batch is gathered (the host gather, the
// kernels' gather on the resident table); a run on it must be bitwise the run on the float copy
// the loader used to hold (byte / 255.0f), on both engines. er also stores the rows it keeps.
TEST(Engines, RunsOnBytesMatchRunsOnTheirFloatCopyBitwise) {
  OneThread one;
  const Scenario s = test::mixed_scenario();
  const Scenario bytes = test::quantized(s, true), floats = test::quantized(s, false);
  ASSERT_TRUE(bytes.tasks[1].train->holds_bytes());
  ASSERT_FALSE(floats.tasks[1].train->holds_bytes());
  for (EngineKind kind : {EngineKind::kHost, EngineKind::kResident})
    for (const char* name : {"ewc", "er"}) {
      SCOPED_TRACE(std::string(name) + (kind == EngineKind::kHost ? " host" : " resident"));
      const RunResult a = run(kind, name, Optimizer::kAdam, true, bytes);
      const RunResult b = run(kind, name, Optimizer::kAdam, true, floats);
      expect_same_run(a, b);
      EXPECT_FALSE(bitwise_equal(a.final_model.params, run(kind, name, Optimizer::kAdam, true, s).final_model.params));
    }
}

TEST(ResidentEngine, RecordedStepsReplayLikeIssuedOnes) {
  OneThread one;
  expect_same_run(run(EngineKind::kResident, "ewc", Optimizer::kAdam, true),
                  run(EngineKind::kResident, "ewc", Optimizer::kAdam, false));
}

// The CUDA test's premise (tests/framework/engine/test_cuda_engine.cpp), checked here: last-bit differences (two
// host threads against the resident engine's single stream) keep three permuted tasks' accuracy
// matrices within 0.5 points, and the run learns.
TEST(ResidentEngine, LastBitDifferencesStayWithinHalfAPointOverThreeTasks) {
  auto be = make_backend("cpu");
  for (const char* name : {"naive", "ewc"}) {
    const RunResult host = test::permuted_run(*be, name, EngineKind::kHost),
                    resident = test::permuted_run(*be, name, EngineKind::kResident);
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) EXPECT_NEAR(resident.acc[i][j], host.acc[i][j], 0.005) << name;
    EXPECT_GT(resident.acc[2][2], 0.5) << name;
  }
}

struct Engines {
  std::unique_ptr<Backend> be = make_backend("cpu");
  Scenario s = test::mixed_scenario();
  Mlp model{MlpArch::parse("24-16-12-6"), 5};
  std::unique_ptr<Engine> host, resident;
  explicit Engines(int batch = 32) {
    EngineConfig ec;
    ec.batch = batch;
    ec.lr = 0.05f;
    ec.eval_batch = 40;
    host = make_engine(*be, s.tasks, model, ec, EngineKind::kHost);
    resident = make_engine(*be, s.tasks, model, ec, EngineKind::kResident);
  }
};

TEST(ResidentEngine, FisherMatchesTheHostEngineForEveryEstimator) {
  OneThread one;
  Engines e;
  // Samples of two tasks (one masked, one with a pixel map) in one list.
  auto refs = sample_refs(e.s.tasks[1], Split::kTrain, 90);
  const auto more = sample_refs(e.s.tasks[2], Split::kTrain, 45);
  refs.insert(refs.end(), more.begin(), more.end());
  for (FisherEstimator est : {FisherEstimator::kEmpirical, FisherEstimator::kSampled, FisherEstimator::kExact}) {
    SCOPED_TRACE(to_string(est));
    FisherConfig fc;
    fc.estimator = est;
    fc.draws = 3;
    fc.batch = 40;  // passes that do not divide the 135 samples
    fc.seed = 9;
    FisherStats hs, rs;
    const auto Fh = e.host->fisher(refs, fc, &hs), Fr = e.resident->fisher(refs, fc, &rs);
    EXPECT_TRUE(bitwise_equal(Fh, Fr));
    EXPECT_EQ(hs.samples, rs.samples);
    EXPECT_GT(rs.trace, 0.0);
  }
  FisherConfig batch;
  batch.estimator = FisherEstimator::kBatch;
  try {
    e.resident->fisher(refs, batch, nullptr);
    FAIL() << "the batch estimator is CPU-only";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("fisher.estimator batch"), std::string::npos) << err.what();
  }
}

TEST(ResidentEngine, EvaluatesAnyListOfTasksInTheOrderGiven) {
  Engines e;
  int64_t hs = 0, rs = 0;
  for (const std::vector<int>& tasks : std::vector<std::vector<int>>{{0, 1, 2}, {2, 0}, {1}, {1, 2}})
    EXPECT_EQ(e.host->evaluate(tasks, &hs), e.resident->evaluate(tasks, &rs));
  EXPECT_EQ(hs, rs);
  EXPECT_EQ(rs, 70 * 8);
}

// Test-set losses: both engines against the float64 oracle (mean -log p_y over each test set,
// masked heads and pixel maps applied), the resident engine's through its batch-mean log, with
// eval batches of 40 that do not divide the 70 test samples. Tolerance 1e-5 relative: float32
// logits and log-softmax per row (~1e-7 each), averaged, against exact arithmetic.
TEST(ResidentEngine, TestLossesMatchTheFloat64Oracle) {
  Engines e;
  const std::vector<int> tasks{2, 0, 1};
  std::vector<double> host_loss, resident_loss;
  int64_t hs = 0, rs = 0;
  const auto host_acc = e.host->evaluate(tasks, &hs, &host_loss);
  const auto resident_acc = e.resident->evaluate(tasks, &rs, &resident_loss);
  EXPECT_EQ(host_acc, resident_acc);
  EXPECT_EQ(host_acc, e.host->evaluate(tasks, &hs));  // asking for the loss changes no accuracy
  ASSERT_EQ(host_loss.size(), 3u);
  ASSERT_EQ(resident_loss.size(), 3u);
  for (size_t k = 0; k < tasks.size(); ++k) {
    const auto refs = sample_refs(e.s.tasks[tasks[k]], Split::kTest);
    BatchBuffers buf;
    gather(e.s.tasks, Split::kTest, refs.data(), int(refs.size()), e.model.arch.num_outputs(), buf);
    double want = 0;
    for (size_t i = 0; i < refs.size(); ++i)
      want += test::ref_loss(e.model, buf.x.data() + i * e.s.input_dim, buf.y[i],
                             buf.mask.empty() ? nullptr : buf.mask.data() + i * e.s.num_classes);
    want /= double(refs.size());
    EXPECT_NEAR(host_loss[k], want, 1e-5 * want) << "task " << tasks[k];
    EXPECT_NEAR(resident_loss[k], want, 1e-5 * want) << "task " << tasks[k];
  }
}

// More steps than the device-side loss log holds between reads: the log is drained on the way.
TEST(ResidentEngine, LossesOfManyStepsComeBackInOrder) {
  OneThread one;
  Engines e(1);
  std::vector<SampleRef> order;
  for (int rep = 0; rep < 8; ++rep) {
    auto refs = sample_refs(e.s.tasks[rep % 3], Split::kTrain);
    order.insert(order.end(), refs.begin(), refs.end());
  }
  ASSERT_GT(order.size(), 1100u);
  for (Engine* eng : {e.host.get(), e.resident.get()}) {
    eng->begin_task();
    eng->set_order(order);
    for (size_t i = 0; i < order.size(); ++i) eng->train_next(1);
  }
  const auto lh = e.host->take_losses(), lr = e.resident->take_losses();
  ASSERT_EQ(lh.size(), order.size());
  EXPECT_EQ(lh, lr);
  EXPECT_TRUE(e.resident->take_losses().empty());
  std::vector<float> ph, pr;
  e.host->read_params(ph);
  e.resident->read_params(pr);
  EXPECT_TRUE(bitwise_equal(ph, pr));
}

// The op twins the resident engine adds, against their definitions.
TEST(ResidentOps, UpdateReadsItsStepFromTheCounter) {
  const int n = 37;
  std::vector<float> theta(n), grad(n), m(n, 0.1f), v(n, 0.2f);
  for (int i = 0; i < n; ++i) theta[i] = 0.01f * i, grad[i] = 0.5f - 0.03f * i;
  auto a_theta = theta, a_m = m, a_v = v;
  FusedUpdateArgs u;
  u.theta = a_theta.data(), u.grad = grad.data(), u.m = a_m.data(), u.v = a_v.data();
  u.n = n, u.opt = Optimizer::kAdam, u.lr = 0.01f, u.step = 4;
  cpu::fused_update(u);
  const int64_t done = 3;
  u.theta = theta.data(), u.m = m.data(), u.v = v.data(), u.step = 99, u.steps_done = &done;
  cpu::fused_update(u);
  EXPECT_TRUE(bitwise_equal(theta, a_theta));
}

TEST(ResidentOps, CountCorrectAndAdvanceStep) {
  const std::vector<int32_t> argmax = {1, 2, 3, 4, 5}, labels = {1, 0, 3, 4, 0}, groups = {0, 2, 2, 1, 1};
  std::vector<int64_t> hits = {10, 0, 0};
  cpu::count_correct({argmax.data(), labels.data(), groups.data(), hits.data(), 5});
  EXPECT_EQ(hits, (std::vector<int64_t>{11, 1, 1}));
  StepCounters c{4, 64, 2};
  const std::vector<float> loss = {1.0f, 2.0f, 4.0f};
  std::vector<double> log(4, -1.0);
  cpu::advance_step({&c, loss.data(), log.data(), 3});
  EXPECT_EQ(log[2], 7.0 / 3.0);
  EXPECT_EQ(c.steps_done, 5);
  EXPECT_EQ(c.offset, 67);
  EXPECT_EQ(c.logged, 3);
}

}  // namespace
}  // namespace clb
