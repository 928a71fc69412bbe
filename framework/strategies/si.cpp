// si: Synaptic Intelligence (Zenke et al., ICML 2017). The engine keeps the loss's path integral
// over each task's steps (Engine::take_path_integral); at the task's end the importance
// omega / (delta theta^2 + xi) is added to a running sum, anchored at the latest parameters, in the
// same fused quadratic penalty as EWC (the paper's c is clbench's lambda / 2;
// framework/consolidation/importance.h).
#include "framework/consolidation/importance.h"
#include "framework/strategies/penalized_strategy.h"

namespace clb {

namespace {

class Si final : public PenalizedStrategy {
 public:
  explicit Si(int64_t num_params) : PenalizedStrategy(num_params) {}
  std::string name() const override { return "si"; }
  void begin_run(const RunStart&, EngineConfig& engine) override { engine.track_path = true; }
  void end_task(const TaskEndContext& ctx, FisherStats*) override {
    const PathIntegral path = ctx.engine.take_path_integral();
    const std::vector<float> omega = si_importance(path.omega, path.theta_start, ctx.model.params);
    penalty_.add_online(omega.data(), ctx.model.params.data(), 1.0f);
  }
};

}  // namespace

std::unique_ptr<Strategy> make_si(const StrategyParams&, int64_t num_params) { return std::make_unique<Si>(num_params); }

}  // namespace clb
