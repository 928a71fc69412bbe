#pragma once
// The harness's task loop: trains a model on a task sequence with one strategy and scores it
// (framework/harness/run_result.h). It knows no strategy by name: it fires the strategy's hooks
// (framework/strategies/strategy.h) and asks a boundary source where tasks end
// (framework/harness/boundary_source.h). docs/DESIGN.md §5.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "framework/backend/backend.h"
#include "framework/core/state_archive.h"
#include "framework/data/scenarios.h"
#include "framework/harness/run_config.h"
#include "framework/harness/run_result.h"
#include "framework/model/mlp.h"
#include "framework/strategies/strategy.h"

namespace clb {

using ProgressFn = std::function<void(const std::string&)>;

// What a run is asked beside training (docs/DESIGN.md §6):
//   stop         read after every step: non-zero (a signal number) ends the run there, throwing
//                clb::Interrupted
//   on_task_end  after each task but the last: everything the rest of the run depends on (the
//                model, optimizer state, the strategy's, the boundary source's, the result so far),
//                to write as a checkpoint
//   resume       such a state: the run continues with the task after it, and ends as it would have
//   clock        seconds on a monotonic clock, read for the phases' times (train, evaluation, a
//                detected boundary's consolidation); null: std::chrono::steady_clock. Tests hold it
//                still or move it at chosen points to see which phase a span of work is counted in.
struct RunControl {
  const std::atomic<int>* stop = nullptr;
  std::function<void(StateArchive&)> on_task_end;
  const StateArchive* resume = nullptr;
  std::function<double()> clock;
};

// One run of `strategy` from `init` over the scenario's tasks, with the strategy's lambda from cfg.
// Throws clb::Error when training diverges (naming the step and what to lower).
RunResult run_strategy(Backend& be, const Scenario& scenario, const Mlp& init, Strategy& strategy,
                       const RunConfig& cfg, uint64_t seed, const ProgressFn& progress, const RunControl& control = {});

// What run_strategy checks before its first step, without training or making the engine: each
// strategy's settings fail here, before the run spends hours on the strategies before it.
// `strategy` is spent (begin_run has been called).
void preflight_strategy(const Backend& be, const Scenario& scenario, const Mlp& init, Strategy& strategy,
                        const RunConfig& cfg, uint64_t seed);

}  // namespace clb
