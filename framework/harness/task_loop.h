#pragma once
// The harness's task loop: trains a model on a task sequence with one strategy and scores it
// (framework/harness/run_result.h). It knows no strategy by name: it fires the strategy's hooks
// (framework/strategies/strategy.h) and asks a boundary source where tasks end
// (framework/harness/boundary_source.h). docs/DESIGN.md §5.
#include <cstdint>
#include <functional>
#include <string>

#include "framework/backend/backend.h"
#include "framework/data/scenarios.h"
#include "framework/harness/run_config.h"
#include "framework/harness/run_result.h"
#include "framework/model/mlp.h"
#include "framework/strategies/strategy.h"

namespace clb {

using ProgressFn = std::function<void(const std::string&)>;

// One run of `strategy` from `init` over the scenario's tasks, with the strategy's lambda from cfg.
// Throws clb::Error when training diverges (naming the step and what to lower).
RunResult run_strategy(Backend& be, const Scenario& scenario, const Mlp& init, Strategy& strategy,
                       const RunConfig& cfg, uint64_t seed, const ProgressFn& progress);

}  // namespace clb
