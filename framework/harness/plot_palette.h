#pragma once
// The colours of the report's figures. A strategy keeps one colour on every plot and every page:
// its index in the strategy registry picks it from a fixed palette of distinct colours, so naive
// is the same blue wherever it appears. Tasks get a separate sequential palette (early dark, late
// light), so per-task lines are never mistaken for strategies.
#include <cstdint>
#include <string>

namespace clb {

// 0xRRGGBB of `strategy`; a name not in the registry (a results file from another version) gets
// the palette's grey, distinct from every registered strategy.
uint32_t strategy_color(const std::string& strategy);
// 0xRRGGBB of task `task` (0-based) of `tasks`, along a viridis-like ramp.
uint32_t task_color(int task, int tasks);

}  // namespace clb
