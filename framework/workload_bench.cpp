#include "framework/workload_bench.h"

#include <algorithm>
#include <chrono>

#include "framework/data_parallel.h"
#include "framework/error.h"
#include "framework/mlp_passes.h"
#include "framework/rng.h"
#include "framework/task.h"

namespace clb {

struct Workload::State {
  Mlp model;
  std::vector<Task> tasks;  // one task holding the random minibatch
  std::vector<SampleRef> refs;
  BatchBuffers buf;
  ParallelWorkspace pw;
  std::vector<float> grad, fisher, anchor, m1, m2;
  int64_t step = 0;
  FisherConfig fc;
  State(const WorkloadConfig& c, int shards) : model(c.arch, 1), pw(c.arch, c.batch, shards) {}
};

namespace {
const WorkloadConfig& checked(const WorkloadConfig& cfg) {
  if (cfg.workload != "train" && cfg.workload != "train-ewc" && cfg.workload != "fisher")
    fail("--workload '{}': use train, train-ewc or fisher", cfg.workload);
  if (cfg.batch <= 0) fail("--batch {}: must be positive", cfg.batch);
  return cfg;
}
}  // namespace

Workload::Workload(Backend& be, const WorkloadConfig& cfg)
    : be_(be), cfg_(checked(cfg)), s_(new State(cfg, shards_for(be, cfg.batch))) {
  const int64_t P = cfg.arch.num_params();
  Rng rng(42);
  auto d = std::make_shared<Dataset>();
  const int rows = cfg.workload == "fisher" ? cfg.batch * kFisherPasses : cfg.batch;
  d->source = "random", d->n = rows, d->dim = cfg.arch.input_dim(), d->num_classes = cfg.arch.num_outputs();
  d->x.resize(size_t(d->n) * d->dim);
  for (float& v : d->x) v = float(rng.uniform());
  d->y.resize(d->n);
  for (auto& y : d->y) y = int32_t(rng.below(uint64_t(d->num_classes)));
  s_->tasks.push_back(whole_dataset_task(d));
  s_->refs = sample_refs(s_->tasks[0], Split::kTrain);
  gather(s_->tasks, Split::kTrain, s_->refs.data(), cfg.batch, cfg.arch.num_outputs(), s_->buf);
  s_->grad.resize(P);
  s_->m1.resize(P);
  s_->m2.resize(P);
  if (cfg.workload == "train-ewc") {
    s_->fisher.resize(P);
    s_->anchor.resize(P);
    for (auto& f : s_->fisher) f = float(rng.uniform());
    for (int64_t k = 0; k < P; ++k) s_->anchor[k] = s_->model.params[k] + 0.01f * float(rng.uniform());
  }
  s_->fc.estimator = cfg.estimator;
  s_->fc.batch = cfg.batch;
}

Workload::~Workload() { delete s_; }

void Workload::step() {
  if (cfg_.workload == "fisher") {
    compute_fisher(be_, s_->model, s_->tasks, s_->refs, s_->fc);
    return;
  }
  EwcUpdateArgs u;
  u.theta = s_->model.params.data();
  u.grad = s_->grad.data();
  u.n = cfg_.arch.num_params();
  u.lr = 1e-4f;  // small, so repeated steps on one batch stay finite
  u.opt = cfg_.optimizer;
  u.m = s_->m1.data();
  u.v = s_->m2.data();
  u.step = ++s_->step;
  if (cfg_.workload == "train-ewc") {
    u.fisher = s_->fisher.data();
    u.anchor = s_->anchor.data();
    u.lambda = 1.0f;
  }
  train_step(be_, s_->model, s_->buf.batch, s_->pw, u);
}

WorkloadResult time_workload(Backend& be, const WorkloadConfig& cfg) {
  using Clock = std::chrono::steady_clock;
  Workload w(be, cfg);
  for (int i = 0; i < 3; ++i) w.step();  // warm-up: first-touch pages, BLAS thread start
  WorkloadResult r;
  for (int rep = 0; rep < cfg.repeats; ++rep) {
    const auto t0 = Clock::now();
    int64_t steps = 0;
    double elapsed = 0;
    do {
      w.step();
      ++steps;
      elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    } while (elapsed < cfg.seconds_per_repeat);
    r.samples_per_s.push_back(double(steps) * w.samples_per_step() / elapsed);
  }
  std::vector<double> sorted = r.samples_per_s;
  std::sort(sorted.begin(), sorted.end());
  r.median = sorted[sorted.size() / 2];
  return r;
}

}  // namespace clb
