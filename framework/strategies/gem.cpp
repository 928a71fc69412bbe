// gem: Gradient Episodic Memory (Lopez-Paz & Ranzato, NeurIPS 2017). Each task keeps a memory of its
// own (a reservoir sample of its training stream, the run's memory budget split evenly over the
// tasks). Every step computes the gradient of each earlier task's whole memory; when the batch's
// gradient opposes any of them, it is replaced by the closest gradient that opposes none, through
// GEM's dual quadratic programme (framework/consolidation/gem_projection.h; --gem-margin is the
// paper's memory strength). A task's memory is the one current when its samples are offered, so
// detected boundaries work as given ones do.
#include <memory>

#include <fmt/format.h>

#include "framework/consolidation/gem_projection.h"
#include "framework/core/rng.h"
#include "framework/stream/replay_memory.h"
#include "framework/strategies/strategy.h"

namespace clb {

namespace {

class Gem final : public Strategy {
 public:
  explicit Gem(const StrategyParams& p) : margin_(p.gem_margin) {}
  std::string name() const override { return "gem"; }
  void begin_run(const RunStart& run, EngineConfig& engine) override {
    const int T = int(run.scenario.tasks.size());
    ReplayBufferConfig per_task = run.memory;
    if (per_task.max_samples > 0) per_task.max_samples = std::max<int64_t>(per_task.max_samples / T, 1);
    if (per_task.max_bytes > 0) per_task.max_bytes /= T;
    memories_.clear();
    for (int t = 0; t < T; ++t)
      memories_.push_back(std::make_unique<ReplayMemory>(run.scenario, run.init.arch.num_outputs(), per_task,
                                                         Rng::derive(run.seed, 0x6E3, uint64_t(t)).next()));
    rows_ = int(memories_[0]->buffer().capacity());
    engine.planned_steps = true;
    engine.memory_batch = rows_;
    plan_.edit_gradient = [this](float* g, const std::vector<const float*>& refs, int64_t n) {
      if (gem_project(g, refs, n, margin_)) ++projections_;
    };
  }
  StepRows before_step(int) override {
    plan_.references.clear();
    for (int k = 0; k < current_; ++k)
      if (const Batch* m = memories_[size_t(k)]->draw(rows_)) plan_.references.push_back(m);
    return plan_.references.empty() ? StepRows{} : StepRows{nullptr, {}, &plan_};
  }
  void after_step(const SampleRef* refs, int B, bool first_epoch) override {
    if (first_epoch) memories_[size_t(current_)]->offer(refs, B);
  }
  void end_task(const TaskEndContext&, FisherStats*) override {
    // More boundaries found than tasks: the later samples join the last memory.
    current_ = std::min(current_ + 1, int(memories_.size()) - 1);
  }
  int64_t bytes_held() const override { return replay_bytes(); }
  int64_t replay_bytes() const override {
    int64_t bytes = 0;
    for (const auto& m : memories_) bytes += m->buffer().bytes();
    return bytes;
  }
  std::string memory_description() const override {
    if (memories_.empty()) return {};
    int64_t held = 0;
    for (const auto& m : memories_) held += m->buffer().size();
    return fmt::format("{} per-task memories of {} samples, {} held; {} steps projected", memories_.size(), rows_, held,
                       projections_);
  }
  void save_state(StateArchive& a) const override {
    a.put("strategy.current", current_);
    a.put("strategy.projections", projections_);
    for (size_t t = 0; t < memories_.size(); ++t) memories_[t]->save(a, fmt::format("strategy.memory{}", t));
  }
  void load_state(const StateArchive& a) override {
    current_ = a.get<int>("strategy.current");
    projections_ = a.get<int64_t>("strategy.projections");
    if (current_ < 0 || current_ >= int(memories_.size())) a.bad("strategy.current", "is not a task of this run");
    for (size_t t = 0; t < memories_.size(); ++t) memories_[t]->load(a, fmt::format("strategy.memory{}", t));
  }

 private:
  float margin_;
  int rows_ = 0, current_ = 0;
  int64_t projections_ = 0;
  std::vector<std::unique_ptr<ReplayMemory>> memories_;
  StepPlan plan_;
};

}  // namespace

std::unique_ptr<Strategy> make_gem(const StrategyParams& p, int64_t) { return std::make_unique<Gem>(p); }

}  // namespace clb
