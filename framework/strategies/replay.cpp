// er and agem: fine-tuning plus a replay memory (framework/stream/replay_memory.h), its rows mixed
// into each batch (ER, experience replay) or used as the reference gradient each step may not
// oppose (A-GEM, Chaudhry et al., ICLR 2019; framework/consolidation/agem_projection.h).
#include "framework/strategies/memory_replay.h"

namespace clb {

namespace {

class Replay final : public Strategy {
 public:
  explicit Replay(MemoryRowsUse use) : replay_(use) {}
  std::string name() const override { return replay_.use() == MemoryRowsUse::kJoin ? "er" : "agem"; }
  void begin_run(const RunStart& run, EngineConfig& engine) override { replay_.begin_run(run, engine); }
  StepRows before_step(int) override { return replay_.before_step(); }
  void after_step(const SampleRef* refs, int B, bool first_epoch) override { replay_.after_step(refs, B, first_epoch); }
  int64_t bytes_held() const override { return replay_.bytes(); }
  int64_t replay_bytes() const override { return replay_.bytes(); }
  std::string memory_description() const override { return replay_.describe(); }
  void save_state(StateArchive& a) const override { replay_.save(a); }
  void load_state(const StateArchive& a) override { replay_.load(a); }

 private:
  MemoryReplay replay_;
};

}  // namespace

std::unique_ptr<Strategy> make_er(const StrategyParams&, int64_t) { return std::make_unique<Replay>(MemoryRowsUse::kJoin); }
std::unique_ptr<Strategy> make_agem(const StrategyParams&, int64_t) {
  return std::make_unique<Replay>(MemoryRowsUse::kProject);
}

}  // namespace clb
