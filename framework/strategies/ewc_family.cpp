// l2, ewc, online-ewc and ewc+er: a quadratic penalty (lambda/2) sum_k F_k (theta_k - theta*_k)^2
// fused into the optimizer update (docs/DESIGN.md §3). They differ in the importance F and in how
// a finished task is folded in:
//   l2          F = 1, a separate anchor per task
//   ewc         F = the task's diagonal Fisher (framework/consolidation/fisher.h), separate penalties
//   online-ewc  a running Fisher, decayed by gamma at each task, anchored at the latest parameters
//   ewc+er      ewc, with a replay memory mixed into each batch (framework/strategies/memory_replay.h)
#include <algorithm>
#include <optional>

#include "framework/strategies/memory_replay.h"
#include "framework/strategies/penalized_strategy.h"

namespace clb {

namespace {

class Quadratic final : public PenalizedStrategy {
 public:
  enum class Kind { kL2, kEwc, kOnlineEwc };
  Quadratic(Kind kind, float gamma, int64_t num_params, bool replay = false)
      : PenalizedStrategy(num_params), kind_(kind), gamma_(gamma) {
    if (replay) replay_.emplace(MemoryRowsUse::kJoin);
  }
  std::string name() const override {
    const std::string base = kind_ == Kind::kL2 ? "l2" : kind_ == Kind::kEwc ? "ewc" : "online-ewc";
    return replay_ ? base + "+er" : base;
  }
  void begin_run(const RunStart& run, EngineConfig& engine) override {
    if (replay_) replay_->begin_run(run, engine);
  }
  StepRows before_step(int) override { return replay_ ? replay_->before_step() : StepRows{}; }
  void after_step(const SampleRef* refs, int B, bool first_epoch) override {
    if (replay_) replay_->after_step(refs, B, first_epoch);
  }
  int64_t bytes_held() const override { return PenalizedStrategy::bytes_held() + replay_bytes(); }
  int64_t replay_bytes() const override { return replay_ ? replay_->bytes() : 0; }
  std::string memory_description() const override { return replay_ ? replay_->describe() : std::string(); }
  void save_state(StateArchive& a) const override {
    PenalizedStrategy::save_state(a);
    if (replay_) replay_->save(a);
  }
  void load_state(const StateArchive& a) override {
    PenalizedStrategy::load_state(a);
    if (replay_) replay_->load(a);
  }

  void end_task(const TaskEndContext& ctx, FisherStats* stats) override {
    const float* anchor = ctx.model.params.data();
    if (kind_ == Kind::kL2) {
      std::vector<float> ones(size_t(ctx.model.arch.num_params()), 1.0f);
      penalty_.add_separate(ones.data(), anchor);
      return;
    }
    std::vector<SampleRef> refs;
    if (ctx.samples) {
      const size_t n = ctx.fisher.samples > 0 ? std::min(ctx.samples->size(), size_t(ctx.fisher.samples)) : ctx.samples->size();
      refs.assign(ctx.samples->begin(), ctx.samples->begin() + std::ptrdiff_t(n));
    } else {
      refs = sample_refs(ctx.tasks[ctx.task], Split::kTrain, ctx.fisher.samples);
    }
    std::vector<float> F = ctx.engine.fisher(refs, ctx.fisher, stats);
    if (kind_ == Kind::kEwc)
      penalty_.add_separate(F.data(), anchor);
    else
      penalty_.add_online(F.data(), anchor, gamma_);
  }

 private:
  Kind kind_;
  float gamma_;
  std::optional<MemoryReplay> replay_;
};

}  // namespace

std::unique_ptr<Strategy> make_l2(const StrategyParams& p, int64_t num_params) {
  return std::make_unique<Quadratic>(Quadratic::Kind::kL2, p.gamma, num_params);
}
std::unique_ptr<Strategy> make_ewc(const StrategyParams& p, int64_t num_params) {
  return std::make_unique<Quadratic>(Quadratic::Kind::kEwc, p.gamma, num_params);
}
std::unique_ptr<Strategy> make_online_ewc(const StrategyParams& p, int64_t num_params) {
  return std::make_unique<Quadratic>(Quadratic::Kind::kOnlineEwc, p.gamma, num_params);
}
std::unique_ptr<Strategy> make_ewc_er(const StrategyParams& p, int64_t num_params) {
  return std::make_unique<Quadratic>(Quadratic::Kind::kEwc, p.gamma, num_params, /*replay=*/true);
}

}  // namespace clb
