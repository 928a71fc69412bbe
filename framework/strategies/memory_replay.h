#pragma once
// The replay memory as a part of a strategy: made at the run's start, each step draws up to a full
// minibatch of memory rows (the engine's batch, whatever the step's own size), and every training
// sample is offered once, in its first epoch.
#include <memory>
#include <string>

#include "framework/stream/replay_memory.h"
#include "framework/strategies/strategy.h"

namespace clb {

class MemoryReplay {
 public:
  explicit MemoryReplay(MemoryRowsUse use) : use_(use) {}
  void begin_run(const RunStart& run, EngineConfig& engine) {
    memory_ = std::make_unique<ReplayMemory>(run.scenario, run.init.arch.num_outputs(), run.memory, run.seed);
    engine.memory_batch = engine.batch;
    rows_ = engine.memory_batch;
  }
  StepRows before_step() { return {memory_->draw(rows_), use_}; }
  void after_step(const SampleRef* refs, int B, bool first_epoch) {
    if (first_epoch) memory_->offer(refs, B);
  }
  MemoryRowsUse use() const { return use_; }
  int64_t bytes() const { return memory_ ? memory_->buffer().bytes() : 0; }
  std::string describe() const { return memory_ ? memory_->buffer().describe() : std::string(); }
  void save(StateArchive& a) const { memory_->save(a, "strategy.memory"); }
  void load(const StateArchive& a) { memory_->load(a, "strategy.memory"); }

 private:
  MemoryRowsUse use_;
  int rows_ = 0;
  std::unique_ptr<ReplayMemory> memory_;
};

}  // namespace clb
