#include "benchmarks/suite/workload_bench.h"

#include <algorithm>
#include <chrono>

#include "framework/engine/engine.h"
#include "framework/core/error.h"
#include "framework/core/rng.h"
#include "framework/data/task.h"

namespace clb {

struct Workload::State {
  Mlp model;
  std::vector<Task> tasks;  // one task holding the random samples
  std::vector<SampleRef> refs, order;
  QuadraticPenalty penalty;
  FisherConfig fc;
  std::unique_ptr<Engine> engine;
  int64_t steps_left = 0;  // steps before the order has to be set again
  explicit State(const WorkloadConfig& c) : model(c.arch, 1) {}
};

namespace {
const WorkloadConfig& checked(const WorkloadConfig& cfg) {
  if (cfg.workload != "train" && cfg.workload != "train-ewc" && cfg.workload != "fisher")
    fail_setting("@workload '{}': use train, train-ewc or fisher", cfg.workload);
  if (cfg.batch <= 0) fail_setting("@batch {}: must be positive", cfg.batch);
  if (cfg.fisher_passes <= 0) fail("fisher passes {}: must be positive", cfg.fisher_passes);
  return cfg;
}
constexpr int kOrderRepeats = 256;  // training steps per order: the same minibatch again and again
}  // namespace

Workload::Workload(Backend& be, const WorkloadConfig& cfg) : be_(be), cfg_(checked(cfg)), s_(new State(cfg)) {
  const int64_t P = cfg.arch.num_params();
  Rng rng(42);
  auto d = std::make_shared<Dataset>();
  const int rows = cfg.workload == "fisher" ? cfg.batch * cfg.fisher_passes : cfg.batch;
  d->source = "random", d->n = rows, d->dim = cfg.arch.input_dim(), d->num_classes = cfg.arch.num_outputs();
  d->x.resize(size_t(d->n) * d->dim);
  for (float& v : d->x) v = float(rng.uniform());
  d->y.resize(d->n);
  for (auto& y : d->y) y = int32_t(rng.below(uint64_t(d->num_classes)));
  s_->tasks.push_back(whole_dataset_task(d));
  s_->refs = sample_refs(s_->tasks[0], Split::kTrain);
  for (int r = 0; r < kOrderRepeats; ++r) s_->order.insert(s_->order.end(), s_->refs.begin(), s_->refs.end());
  EngineConfig ec;
  ec.optimizer = cfg.optimizer;
  ec.lr = 1e-4f;  // small, so repeated steps on one batch stay finite
  ec.batch = cfg.batch;
  ec.lambda = cfg.workload == "train-ewc" ? 1.0f : 0.0f;
  s_->engine = make_engine(be, s_->tasks, s_->model, ec);
  s_->engine->begin_task();
  if (cfg.workload == "train-ewc") {
    std::vector<float> F(P), anchor(P);
    for (auto& f : F) f = float(rng.uniform());
    for (int64_t k = 0; k < P; ++k) anchor[k] = s_->model.params[k] + 0.01f * float(rng.uniform());
    s_->penalty = QuadraticPenalty(P);
    s_->penalty.add_separate(F.data(), anchor.data());
    s_->engine->set_penalty(&s_->penalty);
  }
  s_->fc.estimator = cfg.estimator;
  s_->fc.batch = cfg.batch;
}

Workload::~Workload() { delete s_; }

void Workload::step() {
  if (cfg_.workload == "fisher") {
    s_->engine->fisher(s_->refs, s_->fc, nullptr);
    return;
  }
  if (s_->steps_left == 0) {
    s_->engine->set_order(s_->order);
    s_->steps_left = kOrderRepeats;
  }
  s_->engine->train_next(cfg_.batch);
  --s_->steps_left;
}

void Workload::finish() { s_->engine->take_losses(); }

WorkloadResult time_workload(Backend& be, const WorkloadConfig& cfg) {
  using Clock = std::chrono::steady_clock;
  Workload w(be, cfg);
  for (int i = 0; i < 3; ++i) w.step();  // warm-up: first-touch pages, BLAS thread start, recording
  w.finish();
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
    w.finish();  // a device runs behind the host: time until its work is done
    elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    r.samples_per_s.push_back(double(steps) * w.samples_per_step() / elapsed);
  }
  std::vector<double> sorted = r.samples_per_s;
  std::sort(sorted.begin(), sorted.end());
  r.median = sorted[sorted.size() / 2];
  return r;
}

}  // namespace clb
