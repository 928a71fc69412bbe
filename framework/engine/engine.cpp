#include "framework/engine/engine.h"

#include "framework/core/error.h"

namespace clb {

const char* to_string(Optimizer o) { return o == Optimizer::kAdam ? "adam" : o == Optimizer::kMomentum ? "momentum" : "sgd"; }

Optimizer parse_optimizer(const std::string& text) {
  if (text == "sgd") return Optimizer::kSgd;
  if (text == "momentum") return Optimizer::kMomentum;
  if (text == "adam") return Optimizer::kAdam;
  fail_setting("@optimizer '{}': use sgd, momentum or adam", text);
}

const char* to_string(EngineKind k) { return k == EngineKind::kHost ? "host" : k == EngineKind::kResident ? "resident" : "auto"; }

EngineKind parse_engine_kind(const std::string& text) {
  if (text == "auto") return EngineKind::kAuto;
  if (text == "host") return EngineKind::kHost;
  if (text == "resident") return EngineKind::kResident;
  fail_setting("@engine '{}': use auto, host or resident", text);
}

EngineKind check_engine_settings(const Backend& be, const EngineConfig& cfg, EngineKind kind) {
  if (kind == EngineKind::kAuto) kind = be.host_memory() ? EngineKind::kHost : EngineKind::kResident;
  if (kind == EngineKind::kHost && !be.host_memory())
    fail_setting("@engine host: the host engine needs the CPU backend, not {}; use @engine auto or @backend cpu",
                 be.name());
  return kind;
}

std::unique_ptr<Engine> make_engine(Backend& be, const std::vector<Task>& tasks, const Mlp& init,
                                    const EngineConfig& cfg, EngineKind kind) {
  kind = check_engine_settings(be, cfg, kind);
  return kind == EngineKind::kHost ? make_host_engine(be, tasks, init, cfg) : make_resident_engine(be, tasks, init, cfg);
}

FusedUpdateArgs update_args(const EngineConfig& cfg, int64_t n, float* theta, const float* grad, const float* fisher,
                          const float* anchor, float* m, float* v) {
  FusedUpdateArgs u;
  u.theta = theta, u.grad = grad, u.fisher = fisher, u.anchor = anchor, u.m = m, u.v = v;
  u.n = n;
  u.opt = cfg.optimizer;
  u.lr = cfg.lr;
  u.lambda = cfg.lambda;
  u.momentum = cfg.momentum;
  return u;
}

std::vector<float> fisher_on(Backend& be, const std::vector<Task>& tasks, const Mlp& model,
                             const std::vector<SampleRef>& refs, const FisherConfig& cfg, FisherStats* stats) {
  return make_engine(be, tasks, model, EngineConfig{})->fisher(refs, cfg, stats);
}

}  // namespace clb
