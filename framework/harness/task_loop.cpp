#include "framework/harness/task_loop.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "framework/core/error.h"
#include "framework/core/rng.h"
#include "framework/engine/engine.h"
#include "framework/harness/boundary_source.h"
#include "framework/harness/report.h"
#include "framework/stream/stream_order.h"

namespace clb {

namespace {

// Seconds on the steady clock: the phases' times unless RunControl brings a clock.
double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

constexpr int64_t kLossCheckSteps = 64;  // steps between loss checks: bounds the work after a divergence
// A loss this many times its task's first one (or 1 nat, whichever is larger) is divergence, not
// learning: cross-entropy falls as a task is learnt, and a new task's first loss is the highest.
constexpr double kDivergenceFactor = 100;

// why: "loss is not finite", "loss grew from 2.3 to 7e12"
[[noreturn]] void fail_diverged(const Strategy& strategy, const EngineConfig& ec, int task, int64_t step,
                                const std::string& why) {
  float max_f = 0;
  if (const QuadraticPenalty* pen = strategy.penalty())
    for (int64_t k = 0; k < pen->num_params(); ++k) max_f = std::max(max_f, pen->weight()[k]);
  if (max_f > 0 && ec.optimizer == Optimizer::kSgd)
    fail_setting("{}: training diverged in task {} at step {} ({}): plain SGD on the penalty is "
                 "stable only while lr x lambda x max(F) < 2, here {:g} x {:g} x {:.4g} = {:.3g}; lower @lr or @lambda",
         strategy.name(), task + 1, step, why, ec.lr, ec.lambda, max_f, double(ec.lr) * ec.lambda * max_f);
  fail_setting("{}: training diverged in task {} at step {} ({}); lower @lr{}{}", strategy.name(), task + 1, step, why,
               ec.optimizer == Optimizer::kMomentum ? " or " + setting("momentum") : "",
               max_f > 0 ? " or " + setting("lambda") : "");
}

// The engine's settings for one strategy's run: no minibatch larger than the largest training
// set (joint: all tasks together), then whatever the strategy needs of it.
EngineConfig engine_config(const RunConfig& cfg, const Scenario& sc, float lambda) {
  int64_t most_rows = 0;
  for (const auto& t : sc.tasks) most_rows += int64_t(t.train_rows.size());
  EngineConfig ec;
  static_cast<TrainingSettings&>(ec) = cfg;
  ec.lambda = lambda;
  ec.batch = int(std::min<int64_t>(cfg.batch, std::max<int64_t>(most_rows, 1)));
  return ec;
}

// Losses are read back in groups (a device engine runs ahead of the host); a non-finite one, or
// one far above the task's first, ends the run naming its step.
struct LossLog {
  const Strategy& strategy;
  const EngineConfig& ec;
  int task;
  int64_t checked = 0;
  double sum = 0, first = 0;
  std::vector<double> every{};  // every step's loss, in order: the run's loss curve
  void account(const std::vector<double>& losses) {
    every.insert(every.end(), losses.begin(), losses.end());
    for (double loss : losses) {
      if (!std::isfinite(loss)) fail_diverged(strategy, ec, task, checked + 1, "loss is not finite");
      if (checked == 0) first = loss;
      if (loss > kDivergenceFactor * std::max(first, 1.0))
        fail_diverged(strategy, ec, task, checked + 1,
                      fmt::format("loss grew from {:.4g} at its first step to {:.4g}", first, loss));
      ++checked, sum += loss;
    }
  }
  double mean() const { return sum / double(std::max<int64_t>(checked, 1)); }
};

RunResult start_result(const Strategy& strategy, const RunConfig& cfg, uint64_t seed, int T) {
  RunResult r;
  r.strategy = strategy.name(), r.seed = seed, r.lambda = cfg.lambda_for(r.strategy);
  r.importance = strategy.importance_label(cfg.fisher);
  // Row i is made when task i has been trained and every task tested: memory grows with the
  // tasks done, not with T^2 up front (10,000 tasks would hold 1.6 GB of zeros from the start).
  r.acc.assign(T, {});
  r.test_loss.assign(T, {});
  r.lca_curves.assign(T, {});
  return r;
}

// The strategy begins its run: the engine's settings, with what it needs of them.
EngineConfig begin_strategy(Strategy& strategy, const Scenario& sc, const Mlp& init, const RunConfig& cfg,
                            uint64_t seed, float lambda) {
  EngineConfig ec = engine_config(cfg, sc, lambda);
  strategy.begin_run(RunStart{sc, init, seed, cfg.memory, cfg.epochs, !cfg.detect_boundaries}, ec);
  return ec;
}

// f(), its errors led by the strategy's name (a setting error stays one, for the front end to name
// its flag): the engine's refusals of what a strategy needs.
template <class F>
auto naming_strategy(const std::string& strategy, F f) {
  try {
    return f();
  } catch (const SettingError& e) {
    throw SettingError(strategy + ": " + e.marked());
  } catch (const Error& e) {
    fail("{}: {}", strategy, e.what());
  }
}

std::string task_summary(const RunResult& r, int t, double mean_loss) {
  std::string accs;
  for (int j = 0; j <= t; ++j) accs += fmt::format(" {:.3f}", r.acc[t][j]);
  return fmt::format("{} seed {}: task {}/{} done, mean loss {:.4f}, accuracy on tasks 1..{}:{}", r.strategy, r.seed,
                     t + 1, r.acc.size(), mean_loss, t + 1, accs);
}

// A checkpoint's run in progress back into the loop's parts; returns the first task to train.
int resume_run(const StateArchive& a, const Strategy& strategy, uint64_t seed, int T, int lca_points, RunResult& r) {
  r = run_from_json(a.get<nlohmann::json>("loop.result"), a.source() + " (loop.result)", T, lca_points);
  if (r.strategy != strategy.name() || r.seed != seed)
    a.bad("loop.result", fmt::format("is of {} seed {}, not of {} seed {}", r.strategy, r.seed, strategy.name(), seed));
  const int next = a.get<int>("loop.tasks_done");
  // A checkpoint written before losses were kept: the tasks done have none (NaN, no points).
  if (r.test_loss.empty())
    r.test_loss.assign(T, std::vector<double>(T, std::nan(""))), r.init_test_loss.assign(T, std::nan(""));
  while (int(r.train_loss.task_start.size()) < next) r.train_loss.task_start.push_back(r.train_loss.steps);
  if (next < 1 || next >= T) a.bad("loop.tasks_done", fmt::format("is {}; a run of {} tasks resumes after 1..{}", next, T, T - 1));
  for (int t = 0; t < T; ++t)
    if (int(r.lca_curves[size_t(t)].size()) != (t < next ? lca_points : 0))
      a.bad("loop.result", fmt::format("has an LCA curve for task {} of {} points", t + 1, r.lca_curves[size_t(t)].size()));
  return next;
}

}  // namespace

void preflight_strategy(const Backend& be, const Scenario& sc, const Mlp& init, Strategy& strategy,
                        const RunConfig& cfg, uint64_t seed) {
  RunResult r = start_result(strategy, cfg, seed, int(sc.tasks.size()));
  const EngineConfig ec = begin_strategy(strategy, sc, init, cfg, seed, r.lambda);
  naming_strategy(r.strategy, [&] { check_engine_settings(be, ec, cfg.engine); });
  make_boundary_source(cfg, sc, init, r.strategy, strategy.trains_on_seen_tasks(), r);
  StreamOrder(sc, seed, cfg.blurry_width, cfg.epochs, strategy.trains_on_seen_tasks(), r.strategy);
}

RunResult run_strategy(Backend& be, const Scenario& sc, const Mlp& init, Strategy& strategy, const RunConfig& cfg,
                       uint64_t seed, const ProgressFn& progress, const RunControl& control) {
  const int T = int(sc.tasks.size());
  RunResult r = start_result(strategy, cfg, seed, T);
  r.class_order = sc.class_order;
  Mlp model = init;
  std::vector<int> all_tasks(T);
  for (int j = 0; j < T; ++j) all_tasks[j] = j;
  const EngineConfig ec = begin_strategy(strategy, sc, init, cfg, seed, r.lambda);
  auto engine = naming_strategy(r.strategy, [&] { return make_engine(be, sc.tasks, init, ec, cfg.engine); });
  engine->set_predictor(strategy.predictor());
  auto boundaries = make_boundary_source(cfg, sc, init, r.strategy, strategy.trains_on_seen_tasks(), r);
  const std::function<double()> now = control.clock ? control.clock : steady_seconds;
  // Accuracy and loss on every test set (heads picked by the boundary source or not), timed.
  auto evaluate_all = [&](int trained, std::vector<double>& acc, std::vector<double>& loss) {
    const double t0 = now();
    auto picked = boundaries->evaluate(*engine, trained, &loss);
    acc = picked ? std::move(*picked) : engine->evaluate(all_tasks, &r.eval_samples, &loss);
    r.eval_seconds += now() - t0;
  };
  // A task ends: the strategy consolidates (on `samples`, or on the task's training set when
  // null) and the next updates train against its penalty.
  FisherConfig fisher = cfg.fisher;
  int consolidations = 0;
  auto consolidate = [&](int t, const std::vector<SampleRef>* samples) {
    engine->read_params(model.params);
    fisher.seed = Rng::derive(seed, 0xF15, uint64_t(consolidations++)).next();
    FisherStats fs;
    strategy.end_task(TaskEndContext{*engine, be, model, sc.tasks, t, fisher, samples}, &fs);
    engine->set_penalty(strategy.penalty());
    engine->set_predictor(strategy.predictor());
    r.fisher_seconds += fs.seconds, r.fisher_samples += fs.samples;
  };
  // A boundary found inside an epoch (detected): its consolidation is not training time. What the
  // strategy's end_task measures (the Fisher or importance pass) goes to fisher_seconds and
  // fisher_samples as at a given boundary; the whole span leaves the epoch's training time.
  // Detection itself (the batch gathered for the detector, the loss read every step) stays in
  // training time: it is what training without boundaries costs.
  double boundary_seconds = 0;
  auto on_boundary = [&](int t, const std::optional<Boundary>& b) {
    if (!b) return;
    const double t0 = now();
    if (!b->ended.empty()) consolidate(t, &b->ended);
    engine->begin_task();  // the optimizer starts afresh
    boundary_seconds += now() - t0;
  };
  int first_task = 0;
  if (control.resume) {
    const StateArchive& a = *control.resume;
    first_task = resume_run(a, strategy, seed, T, cfg.lca_batches + 1, r);
    consolidations = a.get<int>("loop.consolidations");
    engine->load_state(a);
    strategy.load_state(a);
    engine->set_penalty(strategy.penalty());
    engine->set_predictor(strategy.predictor());
    boundaries->load_state(a);
  } else {
    evaluate_all(0, r.init_acc, r.init_test_loss);
  }
  StreamOrder order(sc, seed, cfg.blurry_width, cfg.epochs, strategy.trains_on_seen_tasks(), r.strategy);

  for (int t = first_task; t < T; ++t) {
    order.begin_task(t);
    if (boundaries->restarts_at_task(t)) engine->begin_task();
    LossLog losses{strategy, ec, t};
    int64_t step = 0;
    // LCA's Z_0 is the accuracy on task t before any of its minibatches: R[t-1][t] (b_t for t = 0).
    r.lca_curves[t].push_back(t == 0 ? r.init_acc[0] : r.acc[t - 1][t]);
    for (int epoch = 0; epoch < cfg.epochs; ++epoch) {
      const std::vector<SampleRef>& refs = order.epoch(epoch);
      const double t0 = now();
      double lca_seconds = 0;
      boundary_seconds = 0;
      engine->set_order(refs);
      for (size_t start = 0; start < refs.size(); start += size_t(ec.batch)) {
        const int B = int(std::min<size_t>(size_t(ec.batch), refs.size() - start));
        on_boundary(t, boundaries->before_batch(t, refs.data() + start, B));
        const StepRows extra = strategy.before_step(B);
        if (extra.plan)
          engine->train_next_planned(B, *extra.plan);
        else if (extra.rows)
          engine->train_next_with_memory(B, *extra.rows, extra.use);
        else
          engine->train_next(B);
        strategy.after_step(refs.data() + start, B, epoch == 0);
        if (boundaries->watches_losses()) {
          const std::vector<double> step_losses = engine->take_losses();  // read every step
          losses.account(step_losses);
          on_boundary(t, boundaries->after_batch(step_losses, B));
        }
        ++step, r.train_samples += B;
        if (step <= cfg.lca_batches) {
          const double e0 = now();
          r.lca_curves[t].push_back(engine->evaluate({t}, &r.eval_samples)[0]);
          const double s = now() - e0;
          r.eval_seconds += s, lca_seconds += s;
        }
        if (step % kLossCheckSteps == 0) losses.account(engine->take_losses());
        if (control.stop && control.stop->load(std::memory_order_relaxed)) throw Interrupted(control.stop->load());
      }
      losses.account(engine->take_losses());
      r.train_seconds += now() - t0 - lca_seconds - boundary_seconds;
      if (progress && cfg.epochs > 1)
        progress(fmt::format("{} seed {}: task {}/{} epoch {}/{} mean loss {:.4f}", r.strategy, seed, t + 1, T,
                             epoch + 1, cfg.epochs, losses.mean()));
    }
    // Fewer minibatches than beta (tiny tasks): LCA's last point is the accuracy after all of them.
    while (int(r.lca_curves[t].size()) < cfg.lca_batches + 1) r.lca_curves[t].push_back(r.lca_curves[t].back());
    // The last step's update is not covered by the loss check above.
    engine->read_params(model.params);
    for (float p : model.params)
      if (!std::isfinite(p)) fail_diverged(strategy, ec, t, step, "a parameter is not finite");
    if (boundaries->consolidates_at_task_end(t) || (t + 1 == T && !cfg.detect_boundaries && strategy.ends_last_task()))
      consolidate(t, nullptr);
    evaluate_all(t + 1, r.acc[t], r.test_loss[t]);
    r.train_loss.add_task(losses.every);
    if (progress) progress(task_summary(r, t, losses.mean()));
    if (control.on_task_end && t + 1 < T) {
      StateArchive a;
      a.put("loop.tasks_done", t + 1);
      a.put("loop.consolidations", consolidations);
      a.put("loop.result", run_json(r));
      engine->save_state(a);
      strategy.save_state(a);
      boundaries->save_state(a);
      control.on_task_end(a);
    }
  }
  boundaries->finish(ec.batch);
  r.metrics = compute_metrics(r.acc, r.init_acc, r.lca_curves);
  if (const QuadraticPenalty* pen = strategy.penalty()) r.penalty_trace = pen->trace();
  r.strategy_bytes = strategy.bytes_held();
  const int64_t P = init.arch.num_params();
  r.held.data = scenario_bytes(sc);
  r.held.model = P * int64_t(sizeof(float));
  r.held.optimizer = (1 + optimizer_moments(cfg.optimizer)) * P * int64_t(sizeof(float));
  r.held.replay = strategy.replay_bytes();
  r.held.strategy = r.strategy_bytes - r.held.replay;
  r.memory = strategy.memory_description();
  r.final_model = std::move(model);
  return r;
}

}  // namespace clb
