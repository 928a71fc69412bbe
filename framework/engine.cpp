#include "framework/engine.h"

#include "framework/error.h"

namespace clb {

std::unique_ptr<Engine> make_engine(Backend& be, const std::vector<Task>& tasks, const Mlp& init,
                                    const EngineConfig& cfg, EngineKind kind) {
  if (kind == EngineKind::kAuto) kind = be.host_memory() ? EngineKind::kHost : EngineKind::kResident;
  if (kind == EngineKind::kHost) {
    CLB_ASSERT(be.host_memory());
    return make_host_engine(be, tasks, init, cfg);
  }
  return make_resident_engine(be, tasks, init, cfg);
}

std::vector<float> fisher_on(Backend& be, const std::vector<Task>& tasks, const Mlp& model,
                             const std::vector<SampleRef>& refs, const FisherConfig& cfg, FisherStats* stats) {
  return make_engine(be, tasks, model, EngineConfig{})->fisher(refs, cfg, stats);
}

}  // namespace clb
