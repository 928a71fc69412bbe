// lwf: Learning without Forgetting (Li & Hoiem, ECCV 2016 / TPAMI 2017). No memory: each step adds
// to the batch's cross-entropy the distillation (temperature T, weight lambda) of the previous
// model's softened outputs on the same inputs, over each earlier task's classes:
//   task-IL (class masks)   one softmax per earlier task's head, as the paper's multi-head form
//   otherwise               one softmax over the union of the classes earlier tasks trained on
// (framework/consolidation/logit_losses.h). The previous model is the one the last task ended with.
#include <algorithm>
#include <set>

#include "framework/consolidation/logit_losses.h"
#include "framework/strategies/previous_model.h"
#include "framework/strategies/strategy.h"

namespace clb {

namespace {

class Lwf final : public Strategy {
 public:
  explicit Lwf(const StrategyParams& p) : temperature_(p.temperature) {}
  std::string name() const override { return "lwf"; }
  void begin_run(const RunStart& run, EngineConfig& engine) override {
    tasks_ = &run.scenario.tasks;
    arch_ = run.init.arch;
    weight_ = engine.lambda;
    engine.planned_steps = true;
    plan_.loss = &loss_;
    loss_ = [this](const OutputRows& r) { distil(r); };
  }
  StepRows before_step(int) override { return previous_.empty() ? StepRows{} : StepRows{nullptr, {}, &plan_}; }
  void end_task(const TaskEndContext& ctx, FisherStats*) override {
    previous_.keep(ctx.model);
    const Task& task = (*tasks_)[size_t(ctx.task)];
    if (!task.class_mask.empty()) {  // task-IL: the task's head
      std::vector<int32_t> head;
      for (int c = 0; c < int(task.class_mask.size()); ++c)
        if (task.class_mask[size_t(c)]) head.push_back(c);
      if (std::find(groups_.begin(), groups_.end(), head) == groups_.end()) groups_.push_back(head);
      return;
    }
    std::set<int32_t> seen(groups_.empty() ? std::set<int32_t>() : std::set<int32_t>(groups_[0].begin(), groups_[0].end()));
    const std::vector<SampleRef> refs = ctx.samples ? *ctx.samples : sample_refs(task, Split::kTrain);
    for (const SampleRef& s : refs) seen.insert((*tasks_)[size_t(s.task)].train->y[size_t(s.row)]);
    groups_ = {std::vector<int32_t>(seen.begin(), seen.end())};
  }
  int64_t bytes_held() const override { return previous_.empty() ? 0 : arch_.num_params() * int64_t(sizeof(float)); }
  std::string memory_description() const override { return "the previous model's parameters (no samples)"; }
  void save_state(StateArchive& a) const override {
    previous_.save(a, "strategy.previous");
    a.put("strategy.groups", groups_);
  }
  void load_state(const StateArchive& a) override {
    previous_.load(a, "strategy.previous", arch_);
    groups_ = a.get<std::vector<std::vector<int32_t>>>("strategy.groups");
  }

 private:
  void distil(const OutputRows& r) const {
    const float* old = previous_.logits(r);
    for (int i = 0; i < r.rows.B; ++i)
      for (const auto& g : groups_)
        r.loss[i] += float(distillation(r.logits + size_t(i) * r.C, old + size_t(i) * r.C, g.data(), int(g.size()),
                                        temperature_, weight_, r.delta + size_t(i) * r.C));
  }

  float temperature_, weight_ = 1;
  const std::vector<Task>* tasks_ = nullptr;
  MlpArch arch_;
  PreviousModel previous_;
  std::vector<std::vector<int32_t>> groups_;  // the class sets distilled over
  OutputLoss loss_;
  StepPlan plan_;
};

}  // namespace

std::unique_ptr<Strategy> make_lwf(const StrategyParams& p, int64_t) { return std::make_unique<Lwf>(p); }

}  // namespace clb
