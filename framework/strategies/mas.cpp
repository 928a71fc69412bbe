// mas: Memory Aware Synapses (Aljundi et al., ECCV 2018). At each task's end the importance
// mean_i |d ||z(x_i)||^2 / d theta| over the task's samples (no labels) is added to a running sum,
// anchored at the latest parameters, in the same fused quadratic penalty as EWC (the paper's
// lambda is clbench's lambda / 2; framework/consolidation/importance.h).
#include <chrono>

#include "framework/consolidation/importance.h"
#include "framework/strategies/penalized_strategy.h"

namespace clb {

namespace {

class Mas final : public PenalizedStrategy {
 public:
  explicit Mas(int64_t num_params) : PenalizedStrategy(num_params) {}
  std::string name() const override { return "mas"; }
  // Reported in the Fisher columns: the importance pass over the task's samples.
  std::string importance_label(const FisherConfig&) const override { return "MAS"; }
  void end_task(const TaskEndContext& ctx, FisherStats* stats) override {
    const auto t0 = std::chrono::steady_clock::now();
    // On the host copy of the model, whatever the run's backend: no device op computes it yet.
    auto cpu = make_backend("cpu");
    const auto refs = ctx.samples ? *ctx.samples : sample_refs(ctx.tasks[ctx.task], Split::kTrain, ctx.fisher.samples);
    const std::vector<float> omega = mas_importance(*cpu, ctx.model, ctx.tasks, refs);
    stats->samples = int64_t(refs.size());
    stats->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    penalty_.add_online(omega.data(), ctx.model.params.data(), 1.0f);
  }
};

}  // namespace

std::unique_ptr<Strategy> make_mas(const StrategyParams&, int64_t num_params) { return std::make_unique<Mas>(num_params); }

}  // namespace clb
