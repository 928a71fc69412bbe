#include "framework/strategy.h"

#include "framework/error.h"

namespace clb {

namespace {

class Naive final : public Strategy {
 public:
  std::string name() const override { return "naive"; }
};

class Joint final : public Strategy {
 public:
  std::string name() const override { return "joint"; }
  bool trains_on_seen_tasks() const override { return true; }
};

// l2 (F = 1), ewc (separate penalties) and online-ewc (decayed running Fisher) differ only in
// the importance weights and in how a finished task is folded into the penalty.
class Quadratic final : public Strategy {
 public:
  enum class Kind { kL2, kEwc, kOnlineEwc };
  Quadratic(Kind kind, float gamma, int64_t num_params) : kind_(kind), gamma_(gamma), penalty_(num_params) {}
  std::string name() const override {
    return kind_ == Kind::kL2 ? "l2" : kind_ == Kind::kEwc ? "ewc" : "online-ewc";
  }
  const QuadraticPenalty* penalty() const override { return penalty_.empty() ? nullptr : &penalty_; }
  int64_t bytes_held() const override { return penalty_.bytes_held(); }

  void end_task(const TaskEndContext& ctx, FisherStats* stats) override {
    const float* anchor = ctx.model.params.data();
    if (kind_ == Kind::kL2) {
      std::vector<float> ones(size_t(ctx.model.arch.num_params()), 1.0f);
      penalty_.add_separate(ones.data(), anchor);
      return;
    }
    auto refs = sample_refs(ctx.tasks[ctx.task], Split::kTrain, ctx.fisher.samples);
    std::vector<float> F = ctx.engine.fisher(refs, ctx.fisher, stats);
    if (kind_ == Kind::kEwc)
      penalty_.add_separate(F.data(), anchor);
    else
      penalty_.add_online(F.data(), anchor, gamma_);
  }

 private:
  Kind kind_;
  float gamma_;
  QuadraticPenalty penalty_;
};

}  // namespace

const std::vector<std::string>& strategy_names() {
  static const std::vector<std::string> names = {"naive", "joint", "l2", "ewc", "online-ewc"};
  return names;
}

std::unique_ptr<Strategy> make_strategy(const std::string& name, const StrategyParams& p, int64_t num_params) {
  if (name == "naive") return std::make_unique<Naive>();
  if (name == "joint") return std::make_unique<Joint>();
  if (name == "l2") return std::make_unique<Quadratic>(Quadratic::Kind::kL2, p.gamma, num_params);
  if (name == "ewc") return std::make_unique<Quadratic>(Quadratic::Kind::kEwc, p.gamma, num_params);
  if (name == "online-ewc")
    return std::make_unique<Quadratic>(Quadratic::Kind::kOnlineEwc, p.gamma, num_params);
  fail("--strategy: unknown strategy '{}'; use naive, joint, l2, ewc or online-ewc (comma-separated)", name);
}

}  // namespace clb
