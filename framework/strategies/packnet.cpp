// packnet: PackNet (Mallya & Lazebnik, CVPR 2018), the growing-network baseline: one network whose
// weights are dealt out to the tasks in turn. Each task trains the weights no earlier task owns;
// halfway through its steps it keeps the largest of them by magnitude, an equal share of every
// layer (its weights / tasks; the last task keeps all that are left), zeroes the rest and retrains
// only its own for the remaining half. Earlier tasks' weights are frozen (their gradient zeroed,
// the optimizer restarted), so they stay bitwise as their task left them. Task k is tested with
// the weights of tasks 1..k only: forgetting is zero by construction, and the cost is capacity,
// reported as each task's parameter count. Biases are shared: trained by the first task, frozen
// after (as in the paper). Like the paper it needs the task's identity at test time (the test set's
// task) and given boundaries.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "framework/core/error.h"
#include "framework/strategies/strategy.h"

namespace clb {

namespace {

constexpr int16_t kFree = -1;  // owned by no task yet

class PackNet final : public Strategy, public Predictor {
 public:
  std::string name() const override { return "packnet"; }
  void begin_run(const RunStart& run, EngineConfig& engine) override {
    if (!run.boundaries_given)
      fail_setting("packnet deals its weights out per task and tests each with its own: it needs "
                   "@task_boundaries given");
    arch_ = run.init.arch;
    T_ = int(run.scenario.tasks.size());
    if (T_ > 32767) fail_setting("packnet: {} tasks; it keeps at most 32767 (@tasks)", T_);
    owner_.assign(size_t(arch_.num_params()), kFree);
    prune_at_.clear();
    for (const Task& t : run.scenario.tasks) {
      const int64_t steps = int64_t(run.epochs) * ((int64_t(t.train_rows.size()) + engine.batch - 1) / engine.batch);
      prune_at_.push_back(steps / 2);  // the steps before the pruning; the rest retrain
    }
    engine.planned_steps = true;
    plan_.edit_gradient = [this](float* g, const std::vector<const float*>&, int64_t n) {
      for (int64_t k = 0; k < n; ++k)
        if (owner_[size_t(k)] != (pruned_ ? int16_t(task_) : kFree)) g[k] = 0.0f;
    };
  }
  StepRows before_step(int) override {
    const bool prune_now = !pruned_ && step_ == prune_at_[size_t(task_)];
    plan_.edit_params = nullptr;
    plan_.restart_optimizer = prune_now;
    if (prune_now) plan_.edit_params = [this](float* params, int64_t) { prune(params); };
    ++step_;
    return {nullptr, {}, &plan_};
  }
  void end_task(const TaskEndContext& ctx, FisherStats*) override {
    if (!pruned_) {  // a task too short to reach its pruning step: pruned now, without retraining
      std::vector<float> params = ctx.model.params;
      prune(params.data());
      ctx.engine.write_params(params);
    }
    task_ = std::min(task_ + 1, T_ - 1), step_ = 0, pruned_ = false;
  }
  const Predictor* predictor() const override { return this; }
  bool params_for(int task, const std::vector<float>& current, std::vector<float>& params) const override {
    params = current;
    for (size_t k = 0; k < params.size(); ++k)
      if (owner_[k] > task || (owner_[k] == kFree && task < task_)) params[k] = 0.0f;
    return true;
  }
  int64_t bytes_held() const override { return int64_t(owner_.size() * sizeof(int16_t)); }
  std::string memory_description() const override {
    // Task k is tested with the weights of tasks 1..k: its parameter count, the cost of growing.
    std::vector<int64_t> owned(size_t(T_), 0);
    for (int16_t o : owner_)
      if (o != kFree) ++owned[size_t(o)];
    std::string s = "parameters each task is tested with (its own and its predecessors'):";
    int64_t sum = 0;
    for (int t = 0; t < T_; ++t) s += fmt::format(" {}", sum += owned[size_t(t)]);
    return s + fmt::format(" of {}", owner_.size());
  }
  void save_state(StateArchive& a) const override {
    a.put("strategy.owner", owner_);
    a.put("strategy.task", task_);
  }
  void load_state(const StateArchive& a) override {
    owner_ = a.get<std::vector<int16_t>>("strategy.owner");
    task_ = a.get<int>("strategy.task");
    if (owner_.size() != size_t(arch_.num_params())) a.bad("strategy.owner", "is not one owner per parameter");
    if (task_ < 0 || task_ >= T_) a.bad("strategy.task", "is not a task of this run");
  }

 private:
  // The current task keeps its share of each layer's free weights, the largest by magnitude, and
  // the biases nobody owns; the other free weights go back to zero for the tasks after it.
  void prune(float* params) {
    const int16_t t = int16_t(task_);
    for (int l = 0; l < arch_.num_layers(); ++l) {
      const int64_t w0 = arch_.weight_offset(l), b0 = arch_.bias_offset(l), end = arch_.weight_offset(l + 1);
      std::vector<int64_t> free;
      for (int64_t k = w0; k < b0; ++k)
        if (owner_[size_t(k)] == kFree) free.push_back(k);
      const int64_t share = task_ + 1 == T_ ? int64_t(free.size())
                                            : std::min<int64_t>(int64_t(free.size()), (b0 - w0 + T_ - 1) / T_);
      // Largest first; ties by index, so the choice does not depend on the sort's implementation.
      std::nth_element(free.begin(), free.begin() + share, free.end(), [&](int64_t a, int64_t b) {
        const float fa = std::fabs(params[a]), fb = std::fabs(params[b]);
        return fa != fb ? fa > fb : a < b;
      });
      for (size_t i = 0; i < free.size(); ++i) {
        if (int64_t(i) < share)
          owner_[size_t(free[i])] = t;
        else
          params[free[i]] = 0.0f;
      }
      for (int64_t k = b0; k < end; ++k)
        if (owner_[size_t(k)] == kFree) owner_[size_t(k)] = t;
    }
    pruned_ = true;
  }

  MlpArch arch_;
  int T_ = 0, task_ = 0;
  int64_t step_ = 0;
  bool pruned_ = false;
  std::vector<int16_t> owner_;     // per parameter: the task that owns it, or kFree
  std::vector<int64_t> prune_at_;  // per task: its steps before the pruning
  StepPlan plan_;
};

}  // namespace

std::unique_ptr<Strategy> make_packnet(const StrategyParams&, int64_t) { return std::make_unique<PackNet>(); }

}  // namespace clb
