#include "framework/harness.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "framework/data_parallel.h"
#include "framework/engine.h"
#include "framework/error.h"
#include "framework/rng.h"

namespace clb {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

constexpr int64_t kLossCheckSteps = 64;  // steps between loss checks: bounds the work after a divergence
constexpr int64_t kDetectionWindow = 50;  // batches after a true boundary within which a detection finds it

// A task's training order for an epoch: the same for every strategy of a run (and the start of
// a blurry stream, blurred_orders).
void shuffle_order(std::vector<SampleRef>& refs, uint64_t seed, int task, int epoch) {
  Rng order = Rng::derive(seed, 0x7A1, uint64_t(task), uint64_t(epoch));
  order.shuffle(refs);
}

// A run's replay memory and the host buffers its samples pass through: each training sample is
// offered once, as the model saw it (pixel map applied), and each step draws its memory rows.
class ReplayFeed {
 public:
  ReplayFeed(const Scenario& sc, int num_outputs, const ReplayBufferConfig& cfg, uint64_t seed)
      : tasks_(sc.tasks), dim_(sc.input_dim), outputs_(num_outputs), rng_(Rng::derive(seed, 0x3E3)) {
    // uint8 storage only where every training set's features are k/255 (IDX pixels).
    bool exact = true;
    std::set<const Dataset*> checked;  // tasks share their data sets
    for (const Task& t : sc.tasks)
      if (checked.insert(t.train.get()).second)
        exact = exact && is_uint8_exact(t.train->x.data(), int64_t(t.train->x.size()));
    ReplayBufferConfig c = cfg;
    c.seed = rng_.next();
    buffer_ = std::make_unique<ReplayBuffer>(dim_, num_outputs, exact ? SampleStorage::kUint8 : SampleStorage::kFloat32, c);
    masked_ = has_class_masks(sc.tasks);
  }
  // Up to n rows drawn uniformly from the memory, or null while it is empty.
  const Batch* draw(int n) {
    if (buffer_->size() == 0) return nullptr;
    const std::vector<int64_t> slots = buffer_->draw(n, rng_);
    const int m = int(slots.size());
    out_.x.resize(size_t(m) * dim_), out_.y.resize(size_t(m));
    out_.mask.assign(masked_ ? size_t(m) * outputs_ : 0, 1);
    for (int i = 0; i < m; ++i) {
      buffer_->read(slots[size_t(i)], out_.x.data() + size_t(i) * dim_);
      out_.y[size_t(i)] = buffer_->label(slots[size_t(i)]);
      const auto& mask = tasks_[size_t(buffer_->task(slots[size_t(i)]))].class_mask;
      if (!mask.empty()) std::copy(mask.begin(), mask.end(), out_.mask.begin() + size_t(i) * outputs_);
    }
    out_.batch = Batch{out_.x.data(), out_.y.data(), masked_ ? out_.mask.data() : nullptr, m};
    return &out_.batch;
  }
  void offer(const SampleRef* refs, int n) {
    gather(tasks_, Split::kTrain, refs, n, outputs_, seen_);
    for (int i = 0; i < n; ++i) buffer_->offer(seen_.x.data() + size_t(i) * dim_, seen_.y[size_t(i)], refs[i].task);
  }
  const ReplayBuffer& buffer() const { return *buffer_; }

 private:
  const std::vector<Task>& tasks_;
  int dim_, outputs_;
  bool masked_ = false;
  Rng rng_;
  std::unique_ptr<ReplayBuffer> buffer_;
  BatchBuffers out_, seen_;
};

[[noreturn]] void fail_diverged(const Strategy& strategy, const TrainConfig& cfg, int task, int64_t step) {
  float max_f = 0;
  if (const QuadraticPenalty* pen = strategy.penalty())
    for (int64_t k = 0; k < pen->num_params(); ++k) max_f = std::max(max_f, pen->weight()[k]);
  if (max_f > 0 && cfg.optimizer == Optimizer::kSgd)
    fail("{}: training diverged in task {} at step {} (loss is not finite): plain SGD on the penalty is stable "
         "only while lr x lambda x max(F) < 2, here {:g} x {:g} x {:.4g} = {:.3g}; lower --lr or --lambda",
         strategy.name(), task + 1, step, cfg.lr, cfg.lambda, max_f, double(cfg.lr) * cfg.lambda * max_f);
  fail("{}: training diverged in task {} at step {} (loss is not finite); lower --lr{}", strategy.name(), task + 1,
       step, max_f > 0 ? " or --lambda" : "");
}

}  // namespace

std::vector<std::vector<SampleRef>> blurred_orders(const Scenario& sc, uint64_t seed, int64_t width) {
  const size_t T = sc.tasks.size();
  std::vector<std::vector<SampleRef>> orders(T);
  for (size_t t = 0; t < T; ++t) {
    orders[t] = sample_refs(sc.tasks[t], Split::kTrain);
    shuffle_order(orders[t], seed, int(t), 0);
  }
  Rng mix = Rng::derive(seed, 0xB1E, 0);
  for (size_t t = 0; t + 1 < T; ++t) {
    std::vector<SampleRef>& a = orders[t];
    std::vector<SampleRef>& b = orders[t + 1];
    const size_t half = size_t(std::min<int64_t>(width / 2, int64_t(std::min(a.size(), b.size()) / 2)));
    if (half == 0) continue;
    std::vector<SampleRef> old_q(a.end() - std::ptrdiff_t(half), a.end()), new_q(b.begin(), b.begin() + std::ptrdiff_t(half));
    size_t io = 0, in = 0;
    std::vector<SampleRef> dealt;
    for (size_t p = 0; p < 2 * half; ++p) {
      const bool take_new = io == old_q.size() || (in < new_q.size() && mix.uniform() < double(p) / double(2 * half));
      dealt.push_back(take_new ? new_q[in++] : old_q[io++]);
    }
    std::copy(dealt.begin(), dealt.begin() + std::ptrdiff_t(half), a.end() - std::ptrdiff_t(half));
    std::copy(dealt.begin() + std::ptrdiff_t(half), dealt.end(), b.begin());
  }
  return orders;
}

double evaluate(Backend& be, const Mlp& m, const std::vector<Task>& tasks, int task, int eval_batch,
                int64_t* samples_seen) {
  const auto refs = sample_refs(tasks[task], Split::kTest);
  if (refs.empty()) return 0.0;
  const int64_t N = int64_t(refs.size());
  // Small batches spread over the threads (data_parallel.h); each counts its own hits.
  const int rows = int(std::min<int64_t>(eval_batch, (N + be.max_host_threads() - 1) / be.max_host_threads()));
  const int64_t batches = (N + rows - 1) / rows;
  const int S = int(std::clamp<int64_t>(batches, 1, be.max_host_threads()));
  std::vector<int64_t> correct(S, 0);
  run_shards(S, [&](int s) {
    MlpWorkspace ws(m.arch, rows);
    BatchBuffers buf;
    for (int64_t k = s; k < batches; k += S) {
      const int64_t start = k * rows;
      const int B = int(std::min<int64_t>(rows, N - start));
      gather(tasks, Split::kTest, refs.data() + start, B, m.arch.num_outputs(), buf);
      Batch b = buf.batch;
      b.y = nullptr;  // inference: argmax only
      forward(be, m, b, ws);
      for (int i = 0; i < B; ++i) correct[s] += ws.argmax[i] == buf.y[i];
    }
  });
  if (samples_seen) *samples_seen += N;
  int64_t hits = 0;
  for (int64_t c : correct) hits += c;
  return double(hits) / double(N);
}

RunResult run_strategy(Backend& be, const Scenario& sc, const Mlp& init, Strategy& strategy, const TrainConfig& cfg,
                       uint64_t seed, const ProgressFn& progress) {
  const int T = int(sc.tasks.size());
  RunResult r;
  r.strategy = strategy.name();
  r.seed = seed;
  r.lambda = cfg.lambda;
  r.acc.assign(T, std::vector<double>(T, 0.0));
  r.lca_curves.assign(T, {});
  Mlp model = init;
  std::vector<int> all_tasks(T);
  for (int j = 0; j < T; ++j) all_tasks[j] = j;

  // No minibatch is larger than the largest training set (joint: all tasks together).
  int64_t most_rows = 0;
  for (const auto& t : sc.tasks) most_rows += int64_t(t.train_rows.size());
  EngineConfig ec;
  ec.optimizer = cfg.optimizer;
  ec.lr = cfg.lr;
  ec.momentum = cfg.momentum;
  ec.lambda = cfg.lambda;
  ec.batch = int(std::min<int64_t>(cfg.batch, std::max<int64_t>(most_rows, 1)));
  ec.eval_batch = cfg.eval_batch;
  ec.record_steps = cfg.record_steps;
  ec.track_path = strategy.tracks_path();
  const ReplayUse replay = strategy.replay_use();
  std::unique_ptr<ReplayFeed> memory;
  if (replay != ReplayUse::kNone) {
    memory = std::make_unique<ReplayFeed>(sc, init.arch.num_outputs(), cfg.memory, seed);
    ec.memory_batch = ec.batch;  // as many memory rows as new ones per step
  }
  auto engine = make_engine(be, sc.tasks, init, ec, cfg.engine);

  auto timed_eval = [&](const std::vector<int>& tasks) {
    const auto t0 = Clock::now();
    auto acc = engine->evaluate(tasks, &r.eval_samples);
    const double s = seconds_since(t0);
    r.eval_seconds += s;
    return std::make_pair(acc, s);
  };
  FisherConfig fisher = cfg.fisher;

  // A task ends: the strategy consolidates (EWC's Fisher on `samples`, or on the task's training
  // set when null) and the next updates train against its penalty.
  int consolidations = 0;
  auto consolidate = [&](int t, const std::vector<SampleRef>* samples) {
    engine->read_params(model.params);
    fisher.seed = Rng::derive(seed, 0xF15, uint64_t(consolidations++)).next();
    FisherStats fs;
    strategy.end_task(TaskEndContext{*engine, model, sc.tasks, t, fisher, samples}, &fs);
    engine->set_penalty(strategy.penalty());
    r.fisher_seconds += fs.seconds;
    r.fisher_samples += fs.samples;
  };
  // --task-boundaries detect: the detector sees each batch before it is trained on; at a detected
  // boundary the samples since the previous one are consolidated and the optimizer starts afresh.
  std::unique_ptr<InputShiftDetector> detector;
  if (cfg.detect_boundaries) {
    if (strategy.trains_on_seen_tasks())
      fail("--task-boundaries detect: {} trains on every task seen so far, which needs the boundaries; run it with "
           "--task-boundaries given",
           strategy.name());
    detector = std::make_unique<InputShiftDetector>(sc.input_dim, cfg.detector);
  }
  std::vector<SampleRef> segment;
  BatchBuffers observed;
  int64_t batches_seen = 0;
  // Task-IL without task labels at test time: by identity, the class mask of the task trained
  // when the identity was first given; each test set is evaluated with the mask of the identity
  // its inputs are recognised as (all classes when none).
  const bool masked = has_class_masks(sc.tasks);
  std::vector<std::vector<uint8_t>> identity_mask;
  std::unique_ptr<Backend> host_be;
  auto eval_picking_heads = [&](int trained) {  // tasks 0..trained-1 have been trained
    const auto t0 = Clock::now();
    engine->read_params(model.params);
    if (!host_be) host_be = make_backend("cpu");
    std::vector<Task> picked = sc.tasks;
    std::vector<double> acc(static_cast<size_t>(T));
    BatchBuffers buf;
    for (int j = 0; j < T; ++j) {
      const auto refs = sample_refs(sc.tasks[size_t(j)], Split::kTest);
      std::vector<double> mean(size_t(sc.input_dim), 0.0);
      for (size_t start = 0; start < refs.size(); start += 1024) {
        const int n = int(std::min<size_t>(1024, refs.size() - start));
        gather(sc.tasks, Split::kTest, refs.data() + start, n, init.arch.num_outputs(), buf);
        add_feature_sums(buf.x.data(), n, mean);
      }
      for (double& v : mean) v /= double(std::max<size_t>(refs.size(), 1));
      const int id = detector->recognise(mean);
      picked[size_t(j)].class_mask = id >= 0 && id < int(identity_mask.size()) ? identity_mask[size_t(id)] : std::vector<uint8_t>{};
      if (j < trained) {  // a task not trained yet has no head to pick
        ++r.heads_picked;
        r.heads_right += picked[size_t(j)].class_mask == sc.tasks[size_t(j)].class_mask;
      }
      acc[size_t(j)] = evaluate(*host_be, model, picked, j, cfg.eval_batch, &r.eval_samples);
    }
    r.eval_seconds += seconds_since(t0);
    return acc;
  };
  // b_j: before any training no test set is recognised, so with picked heads every class competes.
  r.init_acc = detector && masked ? eval_picking_heads(0) : timed_eval(all_tasks).first;
  std::vector<std::vector<SampleRef>> blurred;
  if (cfg.blurry_width > 0) {
    if (cfg.epochs != 1) fail("--stream blurry: a stream is seen once; use --epochs 1 (got {})", cfg.epochs);
    if (strategy.trains_on_seen_tasks())
      fail("--stream blurry: {} trains on every task seen so far, by task; use --stream sharp", strategy.name());
    blurred = blurred_orders(sc, seed, cfg.blurry_width);
  }

  for (int t = 0; t < T; ++t) {
    std::vector<SampleRef> refs;
    for (int k = strategy.trains_on_seen_tasks() ? 0 : t; k <= t; ++k) {
      auto more = sample_refs(sc.tasks[k], Split::kTrain);
      refs.insert(refs.end(), more.begin(), more.end());
    }
    if (refs.empty()) fail("task {} has no training samples", t + 1);
    // Each task starts with fresh optimizer state: momentum from the previous task's loss surface
    // would carry the model away from the anchors before the penalty can act. (Detect mode: at
    // detected boundaries instead.)
    if (!detector || t == 0) engine->begin_task();
    int64_t step = 0, checked = 0;
    // LCA's Z_0 is the accuracy on task t before any of its minibatches: R[t-1][t] (b_t for t = 0).
    r.lca_curves[t].push_back(t == 0 ? r.init_acc[0] : r.acc[t - 1][t]);
    double loss_sum = 0;
    // Losses are read back in groups (a device engine runs ahead of the host); a non-finite one
    // ends the run naming its step.
    auto account = [&](const std::vector<double>& losses) {
      for (double loss : losses) {
        ++checked;
        if (!std::isfinite(loss)) fail_diverged(strategy, cfg, t, checked);
        loss_sum += loss;
      }
    };
    auto check_losses = [&] { account(engine->take_losses()); };
    for (int epoch = 0; epoch < cfg.epochs; ++epoch) {
      if (blurred.empty()) {
        shuffle_order(refs, seed, t, epoch);
      } else {
        refs = blurred[size_t(t)];  // shuffled the same way, then blurred at the boundaries
      }
      const auto t0 = Clock::now();
      double lca_seconds = 0;
      engine->set_order(refs);
      for (size_t start = 0; start < refs.size(); start += ec.batch) {
        const int B = int(std::min<size_t>(ec.batch, refs.size() - start));
        bool fired = false;
        if (detector) {
          if (t > 0 && epoch == 0 && start == 0) r.true_boundaries.push_back(batches_seen);
          gather(sc.tasks, Split::kTrain, refs.data() + start, B, init.arch.num_outputs(), observed);
          if ((fired = detector->observe(observed.x.data(), B))) {
            r.detected_boundaries.push_back(batches_seen);
            if (!segment.empty()) consolidate(t, &segment);
            segment.clear();
            engine->begin_task();
          }
          segment.insert(segment.end(), refs.begin() + std::ptrdiff_t(start), refs.begin() + std::ptrdiff_t(start + B));
          if (detector->identified_now()) {
            r.segment_truth.push_back(sc.tasks[size_t(t)].identity >= 0 ? sc.tasks[size_t(t)].identity : t);
            r.segment_identity.push_back(detector->identity());
            if (detector->identity() == int(identity_mask.size())) identity_mask.push_back(sc.tasks[size_t(t)].class_mask);
          }
        }
        ++batches_seen;
        const Batch* replayed = memory ? memory->draw(ec.memory_batch) : nullptr;
        if (replayed)
          engine->train_next_with_memory(B, *replayed, replay);
        else
          engine->train_next(B);
        if (memory && epoch == 0) memory->offer(refs.data() + start, B);  // each sample once
        if (detector) {
          // The loss of the batch just trained on, measured before its update (read every step).
          const std::vector<double> losses = engine->take_losses();
          account(losses);
          if (!fired && !losses.empty() && detector->observe_loss(losses.back())) {
            // This batch opened the new task: the old one's samples are the segment before it.
            r.detected_boundaries.push_back(batches_seen - 1);
            const std::vector<SampleRef> opening(segment.end() - B, segment.end());
            segment.resize(segment.size() - size_t(B));
            if (!segment.empty()) consolidate(t, &segment);
            segment = opening;
            engine->begin_task();
          }
        }
        ++step;
        r.train_samples += B;
        if (step <= cfg.lca_batches) {
          auto [acc, s] = timed_eval({t});
          r.lca_curves[t].push_back(acc[0]);
          lca_seconds += s;
        }
        if (step % kLossCheckSteps == 0) check_losses();
      }
      check_losses();
      r.train_seconds += seconds_since(t0) - lca_seconds;
      if (progress && cfg.epochs > 1)
        progress(fmt::format("{} seed {}: task {}/{} epoch {}/{} mean loss {:.4f}", r.strategy, seed, t + 1, T,
                             epoch + 1, cfg.epochs, loss_sum / double(std::max<int64_t>(checked, 1))));
    }
    // Fewer minibatches than beta (tiny tasks): LCA's last point is the accuracy after all of them.
    while (int(r.lca_curves[t].size()) < cfg.lca_batches + 1) r.lca_curves[t].push_back(r.lca_curves[t].back());

    // The last step's update is not covered by the loss check above.
    engine->read_params(model.params);
    for (float p : model.params)
      if (!std::isfinite(p)) fail_diverged(strategy, cfg, t, step);

    // After the last task nothing trains against a new penalty term: no Fisher to compute.
    if (t + 1 < T && !detector) consolidate(t, nullptr);

    const auto acc = detector && masked ? eval_picking_heads(t + 1) : timed_eval(all_tasks).first;
    for (int j = 0; j < T; ++j) r.acc[t][j] = acc[j];
    if (progress) {
      std::string accs;
      for (int j = 0; j <= t; ++j) accs += fmt::format(" {:.3f}", r.acc[t][j]);
      progress(fmt::format("{} seed {}: task {}/{} done, mean loss {:.4f}, accuracy on tasks 1..{}:{}", r.strategy,
                           seed, t + 1, T, loss_sum / double(std::max<int64_t>(checked, 1)), t + 1, accs));
    }
  }
  if (detector) {
    // A blurry boundary may be found while the mix is still rising: up to half its width early.
    const int64_t lead = (cfg.blurry_width / 2 + ec.batch - 1) / ec.batch;
    r.detection = score_detections(r.true_boundaries, r.detected_boundaries, batches_seen, kDetectionWindow, lead);
    r.task_id_accuracy = task_id_accuracy(r.segment_truth, r.segment_identity);
  }
  r.metrics = compute_metrics(r.acc, r.init_acc, r.lca_curves);
  if (const QuadraticPenalty* pen = strategy.penalty()) r.penalty_trace = pen->trace();
  r.strategy_bytes = strategy.bytes_held() + (memory ? memory->buffer().bytes() : 0);
  if (memory) r.memory = memory->buffer().describe();
  r.final_model = std::move(model);
  return r;
}

}  // namespace clb
