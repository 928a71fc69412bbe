// icarl: iCaRL (Rebuffi et al., CVPR 2017), the class-incremental reference.
//   memory     exemplar sets, one per class of each task (the paper's per class, as classes do not
//              recur in class-IL; domain-IL tasks, whose classes recur, each add their own), m = budget
//              / sets, chosen by herding on the last hidden layer's L2-normalised features when the
//              task ends (older sets keep their first m); held as references into the data set,
//              counted as the samples would take
//   training   each batch joined by exemplar rows (drawn uniformly, up to a batch of them); iCaRL's
//              loss: sigmoid binary cross-entropy on every output, the label's one-hot as target
//              for the classes new to the task and the previous model's sigmoid outputs for the
//              classes of earlier tasks (its distillation)
//   predicting the nearest mean of exemplars: the class whose exemplars' mean feature (normalised)
//              lies nearest the sample's normalised feature; before the first task ends, the argmax
// (framework/stream/herding.h). It needs given boundaries: the exemplars are chosen per task.
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "framework/consolidation/logit_losses.h"
#include "framework/core/error.h"
#include "framework/core/rng.h"
#include "framework/stream/herding.h"
#include "framework/stream/replay_memory.h"
#include "framework/strategies/previous_model.h"
#include "framework/strategies/strategy.h"

namespace clb {

namespace {

// The model's last hidden layer's outputs (its input for a network without one) for refs, (n, dim).
std::vector<float> features_of(Backend& be, const Mlp& m, const std::vector<Task>& tasks,
                               const std::vector<SampleRef>& refs) {
  const int L = m.arch.num_layers(), dim = m.arch.in(L - 1), rows = 256;
  std::vector<float> out(refs.size() * size_t(dim));
  MlpWorkspace ws(m.arch, rows);
  BatchBuffers buf;
  for (size_t start = 0; start < refs.size(); start += rows) {
    const int n = int(std::min<size_t>(rows, refs.size() - start));
    gather(tasks, Split::kTrain, refs.data() + start, n, m.arch.num_outputs(), buf);
    forward(be, m, Batch{buf.batch.x, nullptr, nullptr, n}, ws);
    const float* f = L >= 2 ? ws.act[size_t(L - 1)].data() : buf.batch.x;
    std::copy_n(f, size_t(n) * dim, out.begin() + std::ptrdiff_t(start * dim));
  }
  return out;
}

class Icarl final : public Strategy, public Predictor {
 public:
  std::string name() const override { return "icarl"; }
  void begin_run(const RunStart& run, EngineConfig& engine) override {
    if (!run.boundaries_given)
      fail_setting("icarl chooses its exemplars when each task ends: it needs @task_boundaries given");
    tasks_ = &run.scenario.tasks;
    arch_ = run.init.arch;
    C_ = arch_.num_outputs();
    dim_ = arch_.in(arch_.num_layers() - 1);
    // The budget in samples, as the replay memory would count it (a byte budget: uint8 pixels).
    ReplayMemory sizing(run.scenario, C_, run.memory, run.seed);
    capacity_ = sizing.buffer().capacity();
    bytes_per_sample_ = sizing.buffer().bytes_per_sample();
    rng_ = Rng::derive(run.seed, 0x1CA);
    sets_.clear();
    old_class_.assign(size_t(C_), 0);
    means_.assign(size_t(C_) * dim_, 0.0f);
    has_mean_.assign(size_t(C_), 0);
    weight_ = engine.lambda;
    engine.planned_steps = true;
    engine.memory_batch = engine.batch;
    draw_ = engine.batch;
    loss_ = [this](const OutputRows& r) { icarl_loss(r); };
    plan_.loss = &loss_;
  }
  StepRows before_step(int) override {
    std::vector<SampleRef> all;
    for (const auto& e : sets_) all.insert(all.end(), e.refs.begin(), e.refs.end());
    plan_.join = nullptr;
    if (!all.empty()) {
      const int n = int(std::min<size_t>(size_t(draw_), all.size()));
      for (int i = 0; i < n; ++i) std::swap(all[size_t(i)], all[size_t(i) + rng_.below(all.size() - size_t(i))]);
      gather(*tasks_, Split::kTrain, all.data(), n, C_, rows_);
      plan_.join = &rows_.batch;
    }
    return {nullptr, {}, &plan_};
  }
  void end_task(const TaskEndContext& ctx, FisherStats*) override {
    // The task's samples by class: a new exemplar set per class, then m per set over all of them.
    std::vector<std::vector<SampleRef>> by_class(static_cast<size_t>(C_));
    const std::vector<SampleRef> refs = sample_refs(ctx.tasks[size_t(ctx.task)], Split::kTrain);
    for (const SampleRef& s : refs) by_class[size_t(ctx.tasks[size_t(s.task)].train->y[size_t(s.row)])].push_back(s);
    size_t sets = sets_.size();
    for (const auto& c : by_class) sets += !c.empty();
    const int64_t m = capacity_ / int64_t(std::max<size_t>(sets, 1));
    for (auto& e : sets_)
      if (int64_t(e.refs.size()) > m) e.refs.resize(size_t(m));
    for (int c = 0; c < C_; ++c) {
      const auto& samples = by_class[size_t(c)];
      if (samples.empty()) continue;
      std::vector<float> f = features_of(ctx.be, ctx.model, ctx.tasks, samples);
      l2_normalize_rows(f.data(), int64_t(samples.size()), dim_);
      ExemplarSet e{c, {}};
      for (int32_t i : herding_select(f.data(), int64_t(samples.size()), dim_, int(m))) e.refs.push_back(samples[size_t(i)]);
      sets_.push_back(std::move(e));
      old_class_[size_t(c)] = 1;
    }
    previous_.keep(ctx.model);
    update_means(ctx.be, ctx.model);
  }
  bool ends_last_task() const override { return true; }
  const Predictor* predictor() const override { return this; }
  bool classifies() const override { return std::find(has_mean_.begin(), has_mean_.end(), 1) != has_mean_.end(); }
  void classify(const float* features, int B, int dim, const uint8_t* class_mask, int C, int32_t* out) const override {
    for (int i = 0; i < B; ++i)
      out[i] = nearest_mean_class(features + size_t(i) * dim, dim, means_.data(), has_mean_.data(),
                                  class_mask ? class_mask + size_t(i) * C : nullptr, C);
  }
  int64_t bytes_held() const override {
    return replay_bytes() + (previous_.empty() ? 0 : arch_.num_params() * 4) + int64_t(means_.size()) * 4;
  }
  int64_t replay_bytes() const override { return held() * bytes_per_sample_; }
  std::string memory_description() const override {
    int classes = 0;
    for (int c = 0; c < C_; ++c) classes += has_mean_[size_t(c)];
    return fmt::format("herded exemplars, {} of {} samples in {} sets over {} classes", held(), capacity_,
                       sets_.size(), classes);
  }
  void save_state(StateArchive& a) const override {
    std::vector<std::vector<int32_t>> flat;  // per set: its class, then (task, row) pairs
    for (const auto& e : sets_) {
      std::vector<int32_t> v = {e.cls};
      for (const SampleRef& s : e.refs) v.push_back(s.task), v.push_back(s.row);
      flat.push_back(v);
    }
    a.put("strategy.exemplars", flat);
    a.put("strategy.old_classes", old_class_);
    a.put_rng("strategy.rng", rng_);
    previous_.save(a, "strategy.previous");
    a.put_floats("strategy.means", means_);
    a.put("strategy.has_mean", has_mean_);
  }
  void load_state(const StateArchive& a) override {
    const auto flat = a.get<std::vector<std::vector<int32_t>>>("strategy.exemplars");
    sets_.clear();
    for (const auto& v : flat) {
      if (v.empty() || v.size() % 2 == 0 || v[0] < 0 || v[0] >= C_) a.bad("strategy.exemplars", "holds a set without its class");
      ExemplarSet e{v[0], {}};
      for (size_t k = 1; k + 1 < v.size(); k += 2) {
        if (v[k] < 0 || v[k] >= int32_t(tasks_->size()) || v[k + 1] < 0 ||
            int64_t(v[k + 1]) >= (*tasks_)[size_t(v[k])].train->n)
          a.bad("strategy.exemplars", "names a sample this run does not have");
        e.refs.push_back({v[k], v[k + 1]});
      }
      sets_.push_back(std::move(e));
    }
    old_class_ = a.get<std::vector<uint8_t>>("strategy.old_classes");
    a.get_rng("strategy.rng", rng_);
    previous_.load(a, "strategy.previous", arch_);
    means_ = a.floats("strategy.means", int64_t(means_.size()));
    has_mean_ = a.get<std::vector<uint8_t>>("strategy.has_mean");
    if (old_class_.size() != size_t(C_) || has_mean_.size() != size_t(C_)) a.bad("strategy.has_mean", "is not one flag per class");
  }

 private:
  int64_t held() const {
    int64_t n = 0;
    for (const auto& e : sets_) n += int64_t(e.refs.size());
    return n;
  }
  // Each class's exemplar mean under `model`'s features, normalised (iCaRL's classifier).
  void update_means(Backend& be, const Mlp& model) {
    for (int c = 0; c < C_; ++c) {
      std::vector<SampleRef> e;
      for (const auto& set : sets_)
        if (set.cls == c) e.insert(e.end(), set.refs.begin(), set.refs.end());
      has_mean_[size_t(c)] = !e.empty();
      if (e.empty()) continue;
      std::vector<float> f = features_of(be, model, *tasks_, e);
      l2_normalize_rows(f.data(), int64_t(e.size()), dim_);
      std::vector<double> sum(size_t(dim_), 0.0);
      for (size_t i = 0; i < e.size(); ++i)
        for (int j = 0; j < dim_; ++j) sum[size_t(j)] += f[i * dim_ + size_t(j)];
      for (int j = 0; j < dim_; ++j) means_[size_t(c) * dim_ + size_t(j)] = float(sum[size_t(j)] / double(e.size()));
      l2_normalize_rows(means_.data() + size_t(c) * dim_, 1, dim_);
    }
  }
  // Adds to each row's cross-entropy the distillation of the previous model's sigmoid outputs on the
  // classes of earlier tasks.
  void icarl_loss(const OutputRows& r) const {
    if (previous_.empty()) return;
    const float* old = previous_.logits(r);
    std::vector<float> target(static_cast<size_t>(C_));
    for (int i = 0; i < r.rows.B; ++i) {
      for (int c = 0; c < C_; ++c) target[size_t(c)] = 1 / (1 + std::exp(-old[size_t(i) * C_ + size_t(c)]));
      const uint8_t* allowed = r.rows.class_mask ? r.rows.class_mask + size_t(i) * C_ : nullptr;
      std::vector<uint8_t> mask(old_class_);
      if (allowed) for (int c = 0; c < C_; ++c) mask[size_t(c)] &= allowed[c];
      r.loss[i] += float(sigmoid_bce(r.logits + size_t(i) * C_, target.data(), mask.data(), C_, weight_,
                                     r.delta + size_t(i) * C_));
    }
  }

  const std::vector<Task>* tasks_ = nullptr;
  MlpArch arch_;
  int C_ = 0, dim_ = 0, draw_ = 0;
  float weight_ = 1;
  int64_t capacity_ = 0, bytes_per_sample_ = 0;
  Rng rng_{0};
  struct ExemplarSet {
    int32_t cls;
    std::vector<SampleRef> refs;  // in herding order
  };
  std::vector<ExemplarSet> sets_;
  std::vector<uint8_t> old_class_;                 // classes of the tasks ended so far
  std::vector<float> means_;                       // (C, dim) exemplar means, normalised
  std::vector<uint8_t> has_mean_;
  PreviousModel previous_;
  BatchBuffers rows_;
  OutputLoss loss_;
  StepPlan plan_;
};

}  // namespace

std::unique_ptr<Strategy> make_icarl(const StrategyParams&, int64_t) { return std::make_unique<Icarl>(); }

}  // namespace clb
