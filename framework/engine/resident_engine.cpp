// The resident engine (framework/engine/engine.h): parameters, optimizer state, penalty, data sets and
// minibatch orders in backend memory. A training step is gather -> forward -> backward ->
// fused penalty + optimizer update -> loss bookkeeping, with no host round trip; its varying
// inputs (where the minibatch starts, Adam's step) are StepCounters in backend memory, so the
// full-batch step is recorded once per penalty and replayed (a CUDA graph on the device).
// Steps that need host work (replay rows from host memory, A-GEM's projection, SI's path integral, a
// strategy's planned step: its loss on the outputs, gradient or parameter edits) are issued instead
// and read back what that work needs: on the CUDA backend host round trips per step, slower than a
// replayed step but the host engine's arithmetic, op for op. A strategy's predictor (PackNet's
// per-task parameters, iCaRL's nearest mean) likewise classifies on the host from features read back.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <limits>
#include <map>
#include <utility>

#include "framework/backend/backend_array.h"
#include "framework/backend/cpu_backend.h"
#include "framework/consolidation/agem_projection.h"
#include "framework/engine/engine.h"
#include "framework/core/error.h"
#include "framework/model/mlp_passes.h"

namespace clb {

namespace {

// PassBuffers backed by backend memory.
class ResidentPass {
 public:
  ResidentPass(Backend& be, const MlpArch& arch, int rows, int K = 1) {
    const int L = arch.num_layers();
    act_.emplace_back();
    delta_.emplace_back();
    for (int l = 0; l < L; ++l) {
      act_.emplace_back(be, size_t(rows) * arch.out(l));
      delta_.emplace_back(be, size_t(rows) * K * arch.out(l));
    }
    probs_ = BackendArray<float>(be, size_t(rows) * arch.num_outputs());
    loss_ = BackendArray<float>(be, size_t(rows));
    argmax_ = BackendArray<int32_t>(be, size_t(rows));
    for (auto& a : act_) view.act.push_back(a.data());
    for (auto& d : delta_) view.delta.push_back(d.data());
    view.probs = probs_.data(), view.loss = loss_.data(), view.argmax = argmax_.data();
    view.max_rows = rows, view.rows_per_sample = K;
  }
  PassBuffers view;

 private:
  std::vector<BackendArray<float>> act_, delta_;
  BackendArray<float> probs_, loss_;
  BackendArray<int32_t> argmax_;
};

// One minibatch's inputs in backend memory.
struct ResidentBatch {
  ResidentBatch(Backend& be, int rows, int dim, int C, bool masked)
      : x(be, size_t(rows) * dim), y(be, size_t(rows)), mask(be, masked ? size_t(rows) * C : 0) {}
  Batch batch(int B) const { return Batch{x.data(), y.data(), mask.empty() ? nullptr : mask.data(), B}; }
  BackendArray<float> x;
  BackendArray<int32_t> y;
  BackendArray<uint8_t> mask;
};

// Sample lists (table row, task) in backend memory.
struct ResidentRefs {
  BackendArray<int32_t> rows, tasks;
  void upload(Backend& be, const std::vector<int32_t>& r, const std::vector<int32_t>& t) {
    if (rows.size() < r.size()) rows = BackendArray<int32_t>(be, r.size()), tasks = BackendArray<int32_t>(be, r.size());
    rows.upload(r);
    tasks.upload(t);
  }
};

constexpr int kLossLog = 1024;  // steps between forced reads of the loss log

class ResidentEngine final : public Engine {
 public:
  ResidentEngine(Backend& be, const std::vector<Task>& tasks, const Mlp& init, const EngineConfig& cfg)
      : be_(be), tasks_(tasks), cfg_(cfg), arch_(init.arch), P_(init.arch.num_params()),
        C_(init.arch.num_outputs()), dim_(init.arch.input_dim()) {
    upload_data();
    params_ = BackendArray<float>(be, init.params);
    grad_ = BackendArray<float>(be, size_t(P_));
    if (cfg.optimizer != Optimizer::kSgd) m1_ = BackendArray<float>(be, size_t(P_));
    if (cfg.optimizer == Optimizer::kAdam) m2_ = BackendArray<float>(be, size_t(P_));
    // Room for replay rows joined to the batch (experience replay).
    train_pass_ = std::make_unique<ResidentPass>(be, arch_, cfg.batch + cfg.memory_batch);
    train_batch_ = std::make_unique<ResidentBatch>(be, cfg.batch + cfg.memory_batch, dim_, C_, !masks_.empty());
    if (cfg.memory_batch > 0 || cfg.planned_steps) {  // reference batches: A-GEM's memory rows, GEM's
      ref_pass_ = std::make_unique<ResidentPass>(be, arch_, cfg.batch + cfg.memory_batch);
      ref_batch_ = std::make_unique<ResidentBatch>(be, cfg.batch + cfg.memory_batch, dim_, C_, !masks_.empty());
    }
    if (cfg.track_path) path_.theta_start = init.params, path_.omega.assign(size_t(P_), 0.0f);
    if (cfg.planned_steps) {  // the host side of an output loss
      host_be_ = make_cpu_backend();
      scratch_ = std::make_unique<MlpWorkspace>(arch_, cfg.batch + cfg.memory_batch);
    }
    counters_ = BackendArray<StepCounters>(be, std::vector<StepCounters>(1));
    loss_log_ = BackendArray<double>(be, size_t(kLossLog));
  }
  std::string name() const override { return "resident"; }

  void begin_task() override {
    m1_.zero();
    m2_.zero();
    set_counter(offsetof(StepCounters, steps_done), 0);
  }

  void save_state(StateArchive& a) override {
    a.put_floats("engine.params", params_.download());
    a.put_floats("engine.m1", m1_.download());
    a.put_floats("engine.m2", m2_.download());
    a.put("engine.step", counters_.download()[0].steps_done);
    if (cfg_.track_path) a.put_floats("engine.path.omega", path_.omega), a.put_floats("engine.path.theta_start", path_.theta_start);
  }
  void load_state(const StateArchive& a) override {
    params_.upload(a.floats("engine.params", P_));
    if (!m1_.empty()) m1_.upload(a.floats("engine.m1", P_));
    if (!m2_.empty()) m2_.upload(a.floats("engine.m2", P_));
    set_counter(offsetof(StepCounters, steps_done), a.get<int64_t>("engine.step"));
    if (cfg_.track_path)
      path_.omega = a.floats("engine.path.omega", P_), path_.theta_start = a.floats("engine.path.theta_start", P_);
  }

  void set_penalty(const QuadraticPenalty* p) override {
    recorded_.reset();  // the recorded step's update arguments name the penalty arrays
    has_penalty_ = p != nullptr;
    if (!p) return;
    CLB_ASSERT(p->num_params() == P_);
    if (weight_.empty()) weight_ = BackendArray<float>(be_, size_t(P_)), anchor_ = BackendArray<float>(be_, size_t(P_));
    weight_.upload(p->weight(), size_t(P_));
    anchor_.upload(p->anchor(), size_t(P_));
  }

  void set_order(const std::vector<SampleRef>& refs) override {
    std::vector<int32_t> rows, task_of;
    table_rows(refs, Split::kTrain, rows, task_of);
    // A larger order reallocates the arrays the recorded step reads.
    if (order_.rows.size() < rows.size()) recorded_.reset();
    order_.upload(be_, rows, task_of);
    order_size_ = int64_t(refs.size());
    next_ = 0;
    set_counter(offsetof(StepCounters, offset), 0);
  }

  PathIntegral take_path_integral() override {
    CLB_ASSERT(cfg_.track_path);
    PathIntegral fresh;
    fresh.omega.assign(size_t(P_), 0.0f);
    fresh.theta_start = params_.download();
    return std::exchange(path_, std::move(fresh));
  }
  void train_next_with_memory(int B, const Batch& memory, MemoryRowsUse use) override {
    CLB_ASSERT(memory.B > 0 && memory.B <= cfg_.memory_batch);
    issued_step(B, [&] {
      if (use == MemoryRowsUse::kJoin) {  // the rows after the batch's, one mean loss over both
        put_rows(memory, B, *train_batch_);
        const int n = B + memory.B;
        gradients(be_, view(), train_batch_->batch(n), train_pass_->view, grad_.data(), 1.0f / float(n));
        update_and_advance(n, B);
        return;
      }
      // A-GEM: the memory's gradient, the batch's, the projection (on the host), then the update.
      const std::vector<float> g_ref = reference_gradient(memory);
      gradients(be_, view(), train_batch_->batch(B), train_pass_->view, grad_.data(), 1.0f / float(B));
      edit_gradient_on_host([&](float* g) { agem_project(g, g_ref.data(), P_); });
      update_and_advance(B, B);
    });
  }
  // The host engine's planned step, in its order: parameters edited, optimizer restarted, rows
  // joined, reference gradients, the step's gradient (with the output loss on the host), its edit.
  void train_next_planned(int B, const StepPlan& plan) override {
    CLB_ASSERT(cfg_.planned_steps);
    CLB_ASSERT(!plan.join || (plan.join->B > 0 && plan.join->B <= cfg_.memory_batch));
    issued_step(B, [&] {
      if (plan.edit_params) {
        std::vector<float> p = params_.download();
        plan.edit_params(p.data(), P_);
        params_.upload(p);
      }
      if (plan.restart_optimizer) begin_task();
      int n = B;
      if (plan.join) put_rows(*plan.join, B, *train_batch_), n += plan.join->B;
      const Batch b = train_batch_->batch(n);
      std::vector<std::vector<float>> ref_grads;
      if (plan.edit_gradient)
        for (const Batch* r : plan.references) ref_grads.push_back(reference_gradient(*r));
      if (plan.loss) {
        forward(be_, view(), b, train_pass_->view);
        apply_output_loss(*plan.loss, n);
        gradients_from_delta(be_, view(), b, train_pass_->view, grad_.data(), 1.0f / float(n));
      } else {
        gradients(be_, view(), b, train_pass_->view, grad_.data(), 1.0f / float(n));
      }
      if (plan.edit_gradient) {
        std::vector<const float*> refs;
        for (const auto& r : ref_grads) refs.push_back(r.data());
        edit_gradient_on_host([&](float* g) { plan.edit_gradient(g, refs, P_); });
      }
      update_and_advance(n, B);
    });
  }
  void set_predictor(const Predictor* p) override {
    CLB_ASSERT(!p || cfg_.planned_steps);
    predictor_ = p;
  }
  void train_next(int B) override {
    CLB_ASSERT(B > 0 && B <= cfg_.batch && next_ + B <= order_size_);
    if (pending_ == kLossLog) flush_losses();
    tracked([&] {
      if (B == cfg_.batch && cfg_.record_steps) {
        if (!recorded_) recorded_ = be_.record([this] { enqueue_step(cfg_.batch); });
        recorded_->replay();
      } else {
        enqueue_step(B);
      }
    });
    next_ += B;
    ++pending_;
  }

  std::vector<double> take_losses() override {
    flush_losses();
    return std::exchange(losses_, {});
  }

  std::vector<double> evaluate(const std::vector<int>& tasks, int64_t* samples, std::vector<double>* loss) override {
    if (!eval_pass_) {
      eval_pass_ = std::make_unique<ResidentPass>(be_, arch_, cfg_.eval_batch);
      eval_batch_ = std::make_unique<ResidentBatch>(be_, cfg_.eval_batch, dim_, C_, !masks_.empty());
      hits_ = BackendArray<int64_t>(be_, tasks_.size());
    }
    if (!predictor_) return evaluate_argmax(tasks, samples, loss);
    // Task by task: the parameters it is tested with (PackNet) and its classifier (iCaRL) are the
    // strategy's, on the host; the loss stays the network's cross-entropy.
    const std::vector<float> current = params_.download();
    std::vector<double> acc;
    if (loss) loss->clear();
    for (int t : tasks) {
      std::vector<float> own;
      const bool swapped = predictor_->params_for(t, current, own);
      if (swapped) params_.upload(own);
      std::vector<double> task_loss(1);
      if (predictor_->classifies())
        acc.push_back(classified_accuracy(t, samples, loss ? &task_loss[0] : nullptr));
      else
        acc.push_back(evaluate_argmax({t}, samples, loss ? &task_loss : nullptr)[0]);
      if (loss) loss->push_back(task_loss[0]);
      if (swapped) params_.upload(current);
    }
    return acc;
  }

  // Accuracy with the network's argmax, counted on the backend.
  std::vector<double> evaluate_argmax(const std::vector<int>& tasks, int64_t* samples, std::vector<double>* loss) {
    hits_.zero();
    if (loss) {
      // Each test set on its own, so its batches' mean losses (the loss log) are its alone.
      loss->clear();
      for (int t : tasks) loss->push_back(sweep_test_sets(eval_begin_[t], eval_begin_[t + 1], true));
    } else {
      // Consecutive tasks' test sets lie next to each other in eval_: one sweep covers them all.
      for (size_t k = 0; k < tasks.size();) {
        size_t e = k + 1;
        while (e < tasks.size() && tasks[e] == tasks[e - 1] + 1) ++e;
        sweep_test_sets(eval_begin_[tasks[k]], eval_begin_[tasks[e - 1] + 1], false);
        k = e;
      }
    }
    const std::vector<int64_t> hits = hits_.download();
    std::vector<double> acc;
    for (int t : tasks) {
      const int64_t n = eval_begin_[t + 1] - eval_begin_[t];
      acc.push_back(n > 0 ? double(hits[t]) / double(n) : 0.0);
      if (samples) *samples += n;
    }
    return acc;
  }

  void read_params(std::vector<float>& params) override { params = params_.download(); }
  void write_params(const std::vector<float>& params) override {
    CLB_ASSERT(int64_t(params.size()) == P_);
    params_.upload(params);
  }

  std::vector<float> fisher(const std::vector<SampleRef>& refs, const FisherConfig& cfg, FisherStats* stats) override {
    if (refs.empty()) fail("Fisher: no samples to compute it on (is the task's training set empty?)");
    if (cfg.estimator == FisherEstimator::kBatch)
      fail_setting("@fisher.estimator batch: the minibatch-mean estimator (a comparison with Avalanche) runs on "
                   "the host engine only (@backend cpu, @engine auto or host); use empirical, sampled or exact here");
    check_fisher_config(cfg);
    const auto t0 = std::chrono::steady_clock::now();
    const int64_t N = int64_t(refs.size());
    const int K = fisher_rows_per_sample(cfg, C_), rows = fisher_pass_samples(cfg, K), L = arch_.num_layers();
    ResidentRefs dev_refs;
    std::vector<int32_t> table_row, task_of;
    table_rows(refs, Split::kTrain, table_row, task_of);
    dev_refs.upload(be_, table_row, task_of);
    ResidentPass pass(be_, arch_, rows, K);
    ResidentBatch in(be_, rows, dim_, C_, !masks_.empty());
    BackendArray<float> F(be_, size_t(P_));
    F.zero();
    std::vector<float> probs(size_t(rows) * C_), delta(size_t(rows) * K * C_);
    std::vector<int32_t> y(rows);
    std::vector<uint8_t> mask(masks_.empty() ? 0 : size_t(rows) * C_);
    const float scale = float(1.0 / double(N));
    for (int64_t start = 0; start < N; start += rows) {
      const int B = int(std::min<int64_t>(rows, N - start));
      gather_into(dev_refs, start, B, in);
      const Batch b = in.batch(B);
      forward(be_, view(), b, pass.view);
      // The output deltas are made on the host from the probabilities, with the CPU path's code
      // and random streams: the same label draws on every backend.
      be_.copy_out(probs.data(), pass.view.probs, sizeof(float) * size_t(B) * C_);
      be_.copy_out(y.data(), in.y.data(), sizeof(int32_t) * size_t(B));
      if (!mask.empty()) be_.copy_out(mask.data(), in.mask.data(), size_t(B) * C_);
      fisher_output_deltas(cfg, start, probs.data(), y.data(), mask.empty() ? nullptr : mask.data(), B, C_, K,
                           delta.data());
      be_.copy_in(pass.view.delta[L], delta.data(), sizeof(float) * size_t(B) * K * C_);
      backprop_and_accumulate(be_, view(), b, pass.view, K, scale, F.data());
    }
    std::vector<float> out = F.download();
    if (stats) {
      stats->samples = N;
      stats->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      stats->trace = 0;
      for (float f : out) stats->trace += f;
    }
    return out;
  }

 private:
  ModelView view() const { return {&arch_, params_.data()}; }

  // Every data set the tasks use, stacked into one feature table; per task its splits' first rows.
  void upload_data() {
    std::map<const Dataset*, int64_t> base;
    int64_t total = 0;
    for (const Task& t : tasks_)
      for (const Dataset* d : {t.train.get(), t.test.get()})
        if (base.emplace(d, total).second) {
          if (d->dim != dim_) fail("{}: {} features per sample, the model takes {}", d->source, d->dim, dim_);
          total += d->n;
        }
    if (total > INT32_MAX) fail("the data sets hold {} samples together; the resident engine indexes at most {}", total, INT32_MAX);
    // Bytes stay bytes on the device when every data set holds them (the gather divides by 255);
    // a mix is uploaded as floats, each byte converted as the gather would.
    bool all_bytes = true;
    for (const auto& entry : base) all_bytes = all_bytes && entry.first->holds_bytes();
    if (all_bytes)
      table8_ = BackendArray<uint8_t>(be_, size_t(total) * dim_);
    else
      table_ = BackendArray<float>(be_, size_t(total) * dim_);
    labels_ = BackendArray<int32_t>(be_, size_t(total));
    for (const auto& [d, b] : base) {
      if (all_bytes) {
        table8_.upload(d->bytes, size_t(b) * dim_);
      } else if (d->holds_bytes()) {
        std::vector<float> x(size_t(d->n) * dim_);
        for (int64_t i = 0; i < d->n; ++i) d->read_row(i, x.data() + size_t(i) * dim_);
        table_.upload(x, size_t(b) * dim_);
      } else {
        table_.upload(FloatFeatures(*d).data(), size_t(d->n) * dim_, size_t(b) * dim_);
      }
      labels_.upload(d->y, size_t(b));
    }
    const int T = int(tasks_.size());
    bool any_map = false, any_mask = false;
    for (const Task& t : tasks_) {
      train_base_.push_back(int32_t(base[t.train.get()]));
      test_base_.push_back(int32_t(base[t.test.get()]));
      any_map |= !t.pixel_map.empty();
      any_mask |= !t.class_mask.empty();
    }
    if (any_map) {
      std::vector<int32_t> maps(size_t(T) * dim_);
      for (int t = 0; t < T; ++t)
        for (int j = 0; j < dim_; ++j) maps[size_t(t) * dim_ + j] = tasks_[t].pixel_map.empty() ? j : tasks_[t].pixel_map[j];
      maps_ = BackendArray<int32_t>(be_, maps);
    }
    if (any_mask) {  // as framework/data/task.cpp's gather: outputs beyond a task's mask stay masked out
      std::vector<uint8_t> masks(size_t(T) * C_);
      for (int t = 0; t < T; ++t) {
        const auto& cm = tasks_[t].class_mask;
        uint8_t* m = masks.data() + size_t(t) * C_;
        std::fill(m, m + C_, uint8_t(cm.empty() ? 1 : 0));
        std::copy_n(cm.begin(), std::min<size_t>(cm.size(), C_), m);
      }
      masks_ = BackendArray<uint8_t>(be_, masks);
    }
    // Every task's test set, task after task: evaluation sweeps ranges of it.
    std::vector<int32_t> rows, task_of;
    eval_begin_.push_back(0);
    for (int t = 0; t < T; ++t) {
      for (int32_t r : tasks_[t].test_rows) rows.push_back(test_base_[t] + r), task_of.push_back(t);
      eval_begin_.push_back(int64_t(rows.size()));
    }
    eval_.upload(be_, rows, task_of);
  }

  void table_rows(const std::vector<SampleRef>& refs, Split split, std::vector<int32_t>& rows,
                  std::vector<int32_t>& task_of) const {
    const auto& base = split == Split::kTrain ? train_base_ : test_base_;
    rows.resize(refs.size());
    task_of.resize(refs.size());
    for (size_t i = 0; i < refs.size(); ++i) rows[i] = base[refs[i].task] + refs[i].row, task_of[i] = refs[i].task;
  }

  GatherArgs gather_args(const int32_t* rows, const int32_t* task_of, const int64_t* offset, int B,
                         ResidentBatch& out) const {
    GatherArgs g;
    g.table = table_.empty() ? nullptr : table_.data();
    g.table8 = table8_.empty() ? nullptr : table8_.data();
    g.labels = labels_.data();
    g.rows = rows, g.tasks = task_of, g.offset = offset;
    g.pixel_maps = maps_.empty() ? nullptr : maps_.data();
    g.class_masks = masks_.empty() ? nullptr : masks_.data();
    g.x = out.x.data(), g.y = out.y.data(), g.mask = out.mask.empty() ? nullptr : out.mask.data();
    g.B = B, g.dim = dim_, g.C = C_;
    return g;
  }
  void gather_into(const ResidentRefs& refs, int64_t start, int B, ResidentBatch& out) {
    be_.gather(gather_args(refs.rows.data() + start, refs.tasks.data() + start, nullptr, B, out));
  }

  // The training step. Everything that changes from step to step is read from counters_.
  void enqueue_step(int B) {
    StepCounters* c = counters_.data();
    be_.gather(gather_args(order_.rows.data(), order_.tasks.data(), &c->offset, B, *train_batch_));
    const Batch b = train_batch_->batch(B);
    gradients(be_, view(), b, train_pass_->view, grad_.data(), 1.0f / float(B));
    update_and_advance(B, B);
  }

  // A step with host work, issued (not replayed): the batch gathered, `step` run (tracked for SI),
  // the order moved on.
  template <class Step>
  void issued_step(int B, Step step) {
    CLB_ASSERT(B > 0 && B <= cfg_.batch && next_ + B <= order_size_);
    if (pending_ == kLossLog) flush_losses();
    be_.gather(gather_args(order_.rows.data(), order_.tasks.data(), &counters_.data()->offset, B, *train_batch_));
    tracked(step);
    next_ += B;
    ++pending_;
  }

  // The fused update from grad_, then the step's bookkeeping: the mean loss of its `rows` rows
  // logged, and the order's position moved on by the `samples` of them that came from it.
  void update_and_advance(int rows, int samples) {
    StepCounters* c = counters_.data();
    FusedUpdateArgs u = update_args(cfg_, P_, params_.data(), grad_.data(), has_penalty_ ? weight_.data() : nullptr,
                                  has_penalty_ ? anchor_.data() : nullptr, m1_.empty() ? nullptr : m1_.data(),
                                  m2_.empty() ? nullptr : m2_.data());
    u.steps_done = &c->steps_done;
    be_.fused_update(u);
    AdvanceStepArgs a;
    a.counters = c;
    a.loss = train_pass_->view.loss;
    a.loss_log = loss_log_.data();
    a.B = rows;
    be_.advance_step(a);
    if (samples != rows) set_counter(offsetof(StepCounters, offset), next_ + samples);
  }

  // Runs a step; with SI's tracking on, adds -g * (change of theta) to the path integral on the
  // host, as the host engine does (grad_ holds the step's loss gradient, penalty not included).
  template <class Step>
  void tracked(Step step) {
    if (!cfg_.track_path) return step();
    const std::vector<float> before = params_.download();
    step();
    const std::vector<float> after = params_.download(), g = grad_.download();
    for (size_t k = 0; k < before.size(); ++k) path_.omega[k] -= g[k] * (after[k] - before[k]);
  }

  // The mean-loss gradient of host rows (a reference batch), read back.
  std::vector<float> reference_gradient(const Batch& rows) {
    CLB_ASSERT(rows.B > 0 && rows.B <= cfg_.batch + cfg_.memory_batch);
    put_rows(rows, 0, *ref_batch_);
    gradients(be_, view(), ref_batch_->batch(rows.B), ref_pass_->view, grad_.data(), 1.0f / float(rows.B));
    return grad_.download();
  }

  // grad_ read back, edited on the host, written again.
  template <class Edit>
  void edit_gradient_on_host(Edit edit) {
    std::vector<float> g = grad_.download();
    edit(g.data());
    grad_.upload(g);
  }

  // Host rows (replay memory) into dst's rows [at, at + rows.B).
  void put_rows(const Batch& rows, int at, ResidentBatch& dst) {
    be_.copy_in(dst.x.data() + size_t(at) * dim_, rows.x, sizeof(float) * size_t(rows.B) * dim_);
    be_.copy_in(dst.y.data() + at, rows.y, sizeof(int32_t) * size_t(rows.B));
    // Rows of a task without a class mask allow every class (as join_batches and the device gather).
    CLB_ASSERT(rows.class_mask == nullptr || !dst.mask.empty());
    if (dst.mask.empty()) return;
    if (rows.class_mask) {
      be_.copy_in(dst.mask.data() + size_t(at) * C_, rows.class_mask, size_t(rows.B) * C_);
    } else {
      const std::vector<uint8_t> all(size_t(rows.B) * C_, 1);
      be_.copy_in(dst.mask.data() + size_t(at) * C_, all.data(), all.size());
    }
  }

  // The strategy's output loss on the host: the rows, logits, deltas and losses read back, changed
  // there, written back (host_be_ and scratch_ for a second network's forward pass, as the host
  // engine's one shard gives it).
  void apply_output_loss(const OutputLoss& extra, int n) {
    const int L = arch_.num_layers();
    const PassBuffers& pass = train_pass_->view;
    host_x_.resize(size_t(n) * dim_), host_y_.resize(size_t(n)), host_mask_.resize(masks_.empty() ? 0 : size_t(n) * C_);
    be_.copy_out(host_x_.data(), train_batch_->x.data(), sizeof(float) * host_x_.size());
    be_.copy_out(host_y_.data(), train_batch_->y.data(), sizeof(int32_t) * host_y_.size());
    if (!host_mask_.empty()) be_.copy_out(host_mask_.data(), train_batch_->mask.data(), host_mask_.size());
    std::vector<float> logits(static_cast<size_t>(n) * C_), delta(logits.size()), loss(static_cast<size_t>(n));
    be_.copy_out(logits.data(), pass.act[L], sizeof(float) * logits.size());
    be_.copy_out(delta.data(), pass.delta[L], sizeof(float) * delta.size());
    be_.copy_out(loss.data(), pass.loss, sizeof(float) * loss.size());
    const Batch rows{host_x_.data(), host_y_.data(), host_mask_.empty() ? nullptr : host_mask_.data(), n};
    extra(OutputRows{host_be_.get(), 0, 0, n, C_, rows, logits.data(), delta.data(), loss.data(), scratch_.get()});
    be_.copy_in(pass.delta[L], delta.data(), sizeof(float) * delta.size());
    be_.copy_in(pass.loss, loss.data(), sizeof(float) * loss.size());
  }

  // Task t's accuracy by the predictor's classify on the last hidden layer's outputs (the inputs
  // without one), read back batch by batch; loss (if not null): the network's mean cross-entropy
  // from the same pass, summed on the host in row order as the host engine does (NaN if empty).
  double classified_accuracy(int t, int64_t* samples, double* loss) {
    const int L = arch_.num_layers(), fdim = arch_.in(L - 1);
    const int64_t begin = eval_begin_[t], end = eval_begin_[t + 1];
    if (samples) *samples += end - begin;
    if (loss) *loss = std::numeric_limits<double>::quiet_NaN();
    if (end == begin) return 0.0;
    std::vector<float> features(size_t(cfg_.eval_batch) * fdim), row_loss(loss ? size_t(cfg_.eval_batch) : 0);
    std::vector<uint8_t> mask(masks_.empty() ? 0 : size_t(cfg_.eval_batch) * C_);
    std::vector<int32_t> y(size_t(cfg_.eval_batch)), guess(size_t(cfg_.eval_batch));
    int64_t hits = 0;
    double loss_sum = 0.0;
    for (int64_t start = begin; start < end; start += cfg_.eval_batch) {
      const int B = int(std::min<int64_t>(cfg_.eval_batch, end - start));
      gather_into(eval_, start, B, *eval_batch_);
      Batch b = eval_batch_->batch(B);
      if (!loss) b.y = nullptr;  // argmax only; with labels the pass also gives each row's loss
      forward(be_, view(), b, eval_pass_->view);
      be_.copy_out(features.data(), L >= 2 ? eval_pass_->view.act[L - 1] : b.x, sizeof(float) * size_t(B) * fdim);
      be_.copy_out(y.data(), eval_batch_->y.data(), sizeof(int32_t) * size_t(B));
      if (!mask.empty()) be_.copy_out(mask.data(), eval_batch_->mask.data(), size_t(B) * C_);
      predictor_->classify(features.data(), B, fdim, mask.empty() ? nullptr : mask.data(), C_, guess.data());
      for (int i = 0; i < B; ++i) hits += guess[i] == y[i];
      if (loss) {
        be_.copy_out(row_loss.data(), eval_pass_->view.loss, sizeof(float) * size_t(B));
        for (int i = 0; i < B; ++i) loss_sum += row_loss[size_t(i)];
      }
    }
    if (loss) *loss = loss_sum / double(end - begin);
    return double(hits) / double(end - begin);
  }

  // Counts each row's hit into hits_[its test set]. with_loss: the rows' labels also give their
  // losses, each batch's mean logged by advance_step (the training step's kernel, on counters of
  // its own), read back once at the end; returns the mean loss over [begin, end) (NaN if empty).
  double sweep_test_sets(int64_t begin, int64_t end, bool with_loss) {
    const int64_t batches = (end - begin + cfg_.eval_batch - 1) / cfg_.eval_batch;
    if (with_loss) {
      if (eval_loss_log_.size() < size_t(batches)) eval_loss_log_ = BackendArray<double>(be_, size_t(batches));
      if (eval_counters_.empty()) eval_counters_ = BackendArray<StepCounters>(be_, size_t(1));
      eval_counters_.zero();
    }
    for (int64_t start = begin; start < end; start += cfg_.eval_batch) {
      const int B = int(std::min<int64_t>(cfg_.eval_batch, end - start));
      gather_into(eval_, start, B, *eval_batch_);
      Batch b = eval_batch_->batch(B);
      if (!with_loss) b.y = nullptr;  // inference: argmax only
      forward(be_, view(), b, eval_pass_->view);
      CountCorrectArgs cc;
      cc.argmax = eval_pass_->view.argmax;
      cc.labels = eval_batch_->y.data();
      cc.groups = eval_.tasks.data() + start;
      cc.hits = hits_.data();
      cc.B = B;
      be_.count_correct(cc);
      if (with_loss) {
        AdvanceStepArgs a;
        a.counters = eval_counters_.data();
        a.loss = eval_pass_->view.loss;
        a.loss_log = eval_loss_log_.data();
        a.B = B;
        be_.advance_step(a);
      }
    }
    if (!with_loss || batches == 0) return std::numeric_limits<double>::quiet_NaN();
    std::vector<double> means(static_cast<size_t>(batches));
    be_.copy_out(means.data(), eval_loss_log_.data(), sizeof(double) * size_t(batches));
    double sum = 0;
    for (int64_t k = 0; k < batches; ++k)
      sum += means[size_t(k)] * double(std::min<int64_t>(cfg_.eval_batch, end - begin - k * cfg_.eval_batch));
    return sum / double(end - begin);
  }

  void set_counter(size_t field, int64_t value) {
    be_.copy_in(reinterpret_cast<char*>(counters_.data()) + field, &value, sizeof(value));
  }

  void flush_losses() {
    if (pending_ == 0) return;
    const size_t n = losses_.size();
    losses_.resize(n + size_t(pending_));
    be_.copy_out(losses_.data() + n, loss_log_.data(), sizeof(double) * size_t(pending_));
    set_counter(offsetof(StepCounters, logged), 0);
    pending_ = 0;
  }

  Backend& be_;
  const std::vector<Task>& tasks_;
  EngineConfig cfg_;
  MlpArch arch_;
  int64_t P_;
  int C_, dim_;
  BackendArray<float> table_;     // the stacked features: floats,
  BackendArray<uint8_t> table8_;  // or bytes (GatherArgs::table8)
  BackendArray<int32_t> labels_, maps_;
  BackendArray<uint8_t> masks_;
  std::vector<int32_t> train_base_, test_base_;
  ResidentRefs eval_, order_;
  std::vector<int64_t> eval_begin_;  // (T + 1) task t's test samples are eval_[eval_begin_[t], eval_begin_[t+1])
  BackendArray<float> params_, grad_, m1_, m2_, weight_, anchor_;
  bool has_penalty_ = false;
  PathIntegral path_;
  std::unique_ptr<ResidentPass> train_pass_, eval_pass_, ref_pass_;
  std::unique_ptr<ResidentBatch> train_batch_, eval_batch_, ref_batch_;
  const Predictor* predictor_ = nullptr;
  std::unique_ptr<Backend> host_be_;  // an output loss's second network runs here
  std::unique_ptr<MlpWorkspace> scratch_;
  std::vector<float> host_x_;
  std::vector<int32_t> host_y_;
  std::vector<uint8_t> host_mask_;
  BackendArray<StepCounters> counters_;
  BackendArray<double> loss_log_, eval_loss_log_;
  BackendArray<StepCounters> eval_counters_;
  BackendArray<int64_t> hits_;
  std::unique_ptr<Recording> recorded_;
  int64_t order_size_ = 0, next_ = 0;
  int pending_ = 0;
  std::vector<double> losses_;
};

}  // namespace

std::unique_ptr<Engine> make_resident_engine(Backend& be, const std::vector<Task>& tasks, const Mlp& init,
                                             const EngineConfig& cfg) {
  check_engine_settings(be, cfg, EngineKind::kResident);
  return std::make_unique<ResidentEngine>(be, tasks, init, cfg);
}

}  // namespace clb
