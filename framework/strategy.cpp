#include "framework/strategy.h"

#include <algorithm>
#include <chrono>

#include "framework/error.h"
#include "framework/importance.h"

namespace clb {

namespace {

class Naive final : public Strategy {
 public:
  std::string name() const override { return "naive"; }
};

// er and agem: plain fine-tuning plus the replay memory, mixed into each batch (ER) or as the
// reference gradient of each step (A-GEM). The harness keeps the memory (framework/harness.h).
class Replay final : public Strategy {
 public:
  explicit Replay(ReplayUse use) : use_(use) {}
  std::string name() const override { return use_ == ReplayUse::kMix ? "er" : "agem"; }
  ReplayUse replay_use() const override { return use_; }

 private:
  ReplayUse use_;
};

// si and mas: a running importance (summed over tasks, Omega += this task's) with the latest
// parameters as anchor, in the same fused quadratic penalty as EWC (lambda/2 sum Omega (theta -
// theta*)^2: the papers' c or lambda is clbench's lambda / 2). framework/importance.h.
class Importance final : public Strategy {
 public:
  enum class Kind { kSi, kMas };
  Importance(Kind kind, int64_t num_params) : kind_(kind), penalty_(num_params) {}
  std::string name() const override { return kind_ == Kind::kSi ? "si" : "mas"; }
  bool tracks_path() const override { return kind_ == Kind::kSi; }
  const QuadraticPenalty* penalty() const override { return penalty_.empty() ? nullptr : &penalty_; }
  int64_t bytes_held() const override { return penalty_.bytes_held(); }

  void end_task(const TaskEndContext& ctx, FisherStats* stats) override {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<float> omega;
    if (kind_ == Kind::kSi) {
      const PathIntegral path = ctx.engine.take_path_integral();
      omega = si_importance(path.omega, path.theta_start, ctx.model.params);
    } else {
      // On the host copy of the model, whatever the run's backend: no device op computes it yet.
      auto cpu = make_backend("cpu");
      const auto refs = ctx.samples ? *ctx.samples : sample_refs(ctx.tasks[ctx.task], Split::kTrain, ctx.fisher.samples);
      omega = mas_importance(*cpu, ctx.model, ctx.tasks, refs);
      // Reported in the Fisher columns: the importance pass over the task's samples.
      stats->samples = int64_t(refs.size());
      stats->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    penalty_.add_online(omega.data(), ctx.model.params.data(), 1.0f);
  }

 private:
  Kind kind_;
  QuadraticPenalty penalty_;
};

class Joint final : public Strategy {
 public:
  std::string name() const override { return "joint"; }
  bool trains_on_seen_tasks() const override { return true; }
};

// l2 (F = 1), ewc (separate penalties) and online-ewc (decayed running Fisher) differ only in
// the importance weights and in how a finished task is folded into the penalty; ewc+er is ewc
// with the replay memory mixed into each batch.
class Quadratic final : public Strategy {
 public:
  enum class Kind { kL2, kEwc, kOnlineEwc };
  Quadratic(Kind kind, float gamma, int64_t num_params, ReplayUse replay = ReplayUse::kNone)
      : kind_(kind), gamma_(gamma), replay_(replay), penalty_(num_params) {}
  std::string name() const override {
    const std::string base = kind_ == Kind::kL2 ? "l2" : kind_ == Kind::kEwc ? "ewc" : "online-ewc";
    return replay_ == ReplayUse::kMix ? base + "+er" : base;
  }
  ReplayUse replay_use() const override { return replay_; }
  const QuadraticPenalty* penalty() const override { return penalty_.empty() ? nullptr : &penalty_; }
  int64_t bytes_held() const override { return penalty_.bytes_held(); }

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
  ReplayUse replay_;
  QuadraticPenalty penalty_;
};

}  // namespace

const std::vector<std::string>& strategy_names() {
  static const std::vector<std::string> names = {"naive", "joint", "l2",  "ewc",  "online-ewc",
                                                 "si",    "mas",   "er",  "agem", "ewc+er"};
  return names;
}

std::unique_ptr<Strategy> make_strategy(const std::string& name, const StrategyParams& p, int64_t num_params) {
  if (name == "naive") return std::make_unique<Naive>();
  if (name == "joint") return std::make_unique<Joint>();
  if (name == "l2") return std::make_unique<Quadratic>(Quadratic::Kind::kL2, p.gamma, num_params);
  if (name == "ewc") return std::make_unique<Quadratic>(Quadratic::Kind::kEwc, p.gamma, num_params);
  if (name == "online-ewc")
    return std::make_unique<Quadratic>(Quadratic::Kind::kOnlineEwc, p.gamma, num_params);
  if (name == "si") return std::make_unique<Importance>(Importance::Kind::kSi, num_params);
  if (name == "mas") return std::make_unique<Importance>(Importance::Kind::kMas, num_params);
  if (name == "er") return std::make_unique<Replay>(ReplayUse::kMix);
  if (name == "agem") return std::make_unique<Replay>(ReplayUse::kProject);
  if (name == "ewc+er") return std::make_unique<Quadratic>(Quadratic::Kind::kEwc, p.gamma, num_params, ReplayUse::kMix);
  fail("--strategy: unknown strategy '{}'; use naive, joint, l2, ewc, online-ewc, si, mas, er, agem or ewc+er "
       "(comma-separated)",
       name);
}

}  // namespace clb
