// The host engine: the harness's passes on host memory with the CPU's data parallelism.
#include <algorithm>
#include <utility>

#include "framework/consolidation/agem_projection.h"
#include "framework/model/data_parallel.h"
#include "framework/engine/engine.h"
#include "framework/core/error.h"
#include "framework/model/evaluate.h"

namespace clb {

namespace {

class HostEngine final : public Engine {
 public:
  HostEngine(Backend& be, const std::vector<Task>& tasks, const Mlp& init, const EngineConfig& cfg)
      : be_(be), tasks_(tasks), cfg_(cfg), model_(init), grad_(size_t(init.arch.num_params())),
        pw_(init.arch, cfg.batch + cfg.memory_batch, shards_for(be, cfg.batch + cfg.memory_batch), cfg.planned_steps) {
    const int64_t P = init.arch.num_params();
    if (cfg.optimizer != Optimizer::kSgd) m1_.resize(P);
    if (cfg.optimizer == Optimizer::kAdam) m2_.resize(P);
    if (cfg.memory_batch > 0) grad_ref_.resize(size_t(P));
    if (cfg.track_path) path_.theta_start = init.params, path_.omega.assign(size_t(P), 0.0f);
  }
  std::string name() const override { return "host"; }

  void begin_task() override {
    std::fill(m1_.begin(), m1_.end(), 0.0f);
    std::fill(m2_.begin(), m2_.end(), 0.0f);
    step_ = 0;
  }
  void set_penalty(const QuadraticPenalty* p) override {
    penalty_ = p ? *p : QuadraticPenalty();
    has_penalty_ = p != nullptr;
  }
  void set_order(const std::vector<SampleRef>& refs) override {
    order_ = refs;
    next_ = 0;
  }
  void train_next(int B) override {
    gather_next(B);
    tracked([&] { losses_.push_back(train_step(be_, model_, buf_.batch, pw_, next_update())); });
  }
  void train_next_with_memory(int B, const Batch& memory, MemoryRowsUse use) override {
    CLB_ASSERT(memory.B > 0 && memory.B <= cfg_.memory_batch);
    gather_next(B);
    if (use == MemoryRowsUse::kJoin) {
      tracked([&] { losses_.push_back(train_step(be_, model_, joined(buf_.batch, memory), pw_, next_update())); });
      return;
    }
    // A-GEM: the memory's gradient, the batch's, the projection, then the (fused) update.
    tracked([&] {
      compute_gradients(be_, model_, memory, pw_, grad_ref_.data());
      losses_.push_back(compute_gradients(be_, model_, buf_.batch, pw_, grad_.data()));
      agem_project(grad_.data(), grad_ref_.data(), int64_t(grad_.size()));
      be_.fused_update(next_update());
    });
  }
  void train_next_planned(int B, const StepPlan& plan) override {
    CLB_ASSERT(cfg_.planned_steps);
    CLB_ASSERT(!plan.join || (plan.join->B > 0 && plan.join->B <= cfg_.memory_batch));
    gather_next(B);
    const int64_t P = model_.arch.num_params();
    if (plan.edit_params) plan.edit_params(model_.params.data(), P);
    if (plan.restart_optimizer) begin_task();
    const Batch& b = plan.join ? joined(buf_.batch, *plan.join) : buf_.batch;
    tracked([&] {
      if (!plan.edit_gradient) {
        losses_.push_back(train_step(be_, model_, b, pw_, next_update(), plan.loss));
        return;
      }
      ref_grads_.resize(plan.references.size());
      std::vector<const float*> refs;
      for (size_t k = 0; k < plan.references.size(); ++k) {
        CLB_ASSERT(plan.references[k]->B <= cfg_.batch + cfg_.memory_batch);
        ref_grads_[k].resize(size_t(P));
        compute_gradients(be_, model_, *plan.references[k], pw_, ref_grads_[k].data());
        refs.push_back(ref_grads_[k].data());
      }
      losses_.push_back(compute_gradients(be_, model_, b, pw_, grad_.data(), plan.loss));
      plan.edit_gradient(grad_.data(), refs, P);
      be_.fused_update(next_update());
    });
  }
  void set_predictor(const Predictor* p) override {
    CLB_ASSERT(!p || cfg_.planned_steps);
    predictor_ = p;
  }
  PathIntegral take_path_integral() override {
    CLB_ASSERT(cfg_.track_path);
    PathIntegral fresh;
    fresh.omega.assign(model_.params.size(), 0.0f);
    fresh.theta_start = model_.params;
    return std::exchange(path_, std::move(fresh));
  }
  std::vector<double> take_losses() override { return std::exchange(losses_, {}); }
  std::vector<double> evaluate(const std::vector<int>& tasks, int64_t* samples, std::vector<double>* loss) override {
    std::vector<double> acc;
    if (loss) loss->assign(tasks.size(), 0.0);
    for (size_t k = 0; k < tasks.size(); ++k)
      acc.push_back(clb::evaluate(be_, model_, tasks_, tasks[k], cfg_.eval_batch, samples, loss ? &(*loss)[k] : nullptr,
                                  predictor_));
    return acc;
  }
  void read_params(std::vector<float>& params) override { params = model_.params; }
  void write_params(const std::vector<float>& params) override {
    CLB_ASSERT(params.size() == model_.params.size());
    model_.params = params;
  }
  std::vector<float> fisher(const std::vector<SampleRef>& refs, const FisherConfig& cfg, FisherStats* stats) override {
    return compute_fisher(be_, model_, tasks_, refs, cfg, stats);
  }
  void save_state(StateArchive& a) override {
    a.put_floats("engine.params", model_.params);
    a.put_floats("engine.m1", m1_);
    a.put_floats("engine.m2", m2_);
    a.put("engine.step", step_);
    if (cfg_.track_path) a.put_floats("engine.path.omega", path_.omega), a.put_floats("engine.path.theta_start", path_.theta_start);
  }
  void load_state(const StateArchive& a) override {
    const int64_t P = model_.arch.num_params();
    model_.params = a.floats("engine.params", P);
    m1_ = a.floats("engine.m1", int64_t(m1_.size()));
    m2_ = a.floats("engine.m2", int64_t(m2_.size()));
    step_ = a.get<int64_t>("engine.step");
    if (cfg_.track_path) path_.omega = a.floats("engine.path.omega", P), path_.theta_start = a.floats("engine.path.theta_start", P);
  }

 private:
  // Runs a step; with SI's tracking on, adds -g * (change of theta) to the path integral (grad_
  // holds the step's loss gradient afterwards, penalty not included).
  template <class Step>
  void tracked(Step step) {
    if (!cfg_.track_path) return step();
    before_ = model_.params;
    step();
    for (size_t k = 0; k < before_.size(); ++k) path_.omega[k] -= grad_[k] * (model_.params[k] - before_[k]);
  }
  void gather_next(int B) {
    CLB_ASSERT(B > 0 && B <= cfg_.batch && next_ + B <= order_.size());
    gather(tasks_, Split::kTrain, order_.data() + next_, B, model_.arch.num_outputs(), buf_);
    next_ += B;
  }
  // The update of the next step: the optimizer's state, the penalty, the step count.
  FusedUpdateArgs next_update() {
    FusedUpdateArgs u = update_args(cfg_, model_.arch.num_params(), model_.params.data(), grad_.data(),
                                  has_penalty_ ? penalty_.weight() : nullptr,
                                  has_penalty_ ? penalty_.anchor() : nullptr, m1_.empty() ? nullptr : m1_.data(),
                                  m2_.empty() ? nullptr : m2_.data());
    u.step = ++step_;
    return u;
  }
  const Batch& joined(const Batch& a, const Batch& b) {
    return join_batches(a, b, model_.arch.input_dim(), model_.arch.num_outputs(), mix_);
  }

  Backend& be_;
  const std::vector<Task>& tasks_;
  EngineConfig cfg_;
  Mlp model_;
  std::vector<float> grad_, m1_, m2_, grad_ref_, before_;
  std::vector<std::vector<float>> ref_grads_;
  const Predictor* predictor_ = nullptr;
  PathIntegral path_;
  ParallelWorkspace pw_;
  BatchBuffers buf_, mix_;
  QuadraticPenalty penalty_;
  bool has_penalty_ = false;
  std::vector<SampleRef> order_;
  size_t next_ = 0;
  int64_t step_ = 0;
  std::vector<double> losses_;
};

}  // namespace

std::unique_ptr<Engine> make_host_engine(Backend& be, const std::vector<Task>& tasks, const Mlp& init,
                                         const EngineConfig& cfg) {
  return std::make_unique<HostEngine>(be, tasks, init, cfg);
}

}  // namespace clb
