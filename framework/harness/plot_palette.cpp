#include "framework/harness/plot_palette.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "framework/strategies/registry.h"

namespace clb {

namespace {

// Matplotlib's tab10 without its grey (kept for unknown names) plus black, then five dark tones of
// tab20b: fifteen distinct colours for the registry's strategies, in registry order (naive, joint,
// l2, ewc, online-ewc, si, mas, er, agem, ewc+er, gem, lwf, icarl, der++, packnet). New strategies
// join at the registry's end, so the colours already published stay theirs. A registry that grows
// past it wraps around.
constexpr std::array<uint32_t, 15> kStrategyPalette = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                                       0x8c564b, 0xe377c2, 0xbcbd22, 0x17becf, 0x000000,
                                                       0x393b79, 0x637939, 0x8c6d31, 0x843c39, 0x7b4173};
constexpr uint32_t kUnknownStrategy = 0x7f7f7f;

// Viridis at 0, 0.25, 0.5, 0.75 and 0.9 (its last yellow is too light on white).
constexpr std::array<uint32_t, 5> kTaskRamp = {0x440154, 0x3b528b, 0x21918c, 0x5ec962, 0xb5de2b};

uint32_t mix(uint32_t a, uint32_t b, double t) {
  uint32_t out = 0;
  for (int shift : {16, 8, 0}) {
    const double ca = (a >> shift) & 0xff, cb = (b >> shift) & 0xff;
    out |= uint32_t(std::lround(ca + (cb - ca) * t)) << shift;
  }
  return out;
}

}  // namespace

uint32_t strategy_color(const std::string& strategy) {
  const auto& names = strategy_names();
  const auto it = std::find(names.begin(), names.end(), strategy);
  if (it == names.end()) return kUnknownStrategy;
  return kStrategyPalette[size_t(it - names.begin()) % kStrategyPalette.size()];
}

uint32_t task_color(int task, int tasks) {
  const double t = tasks > 1 ? std::clamp(double(task) / (tasks - 1), 0.0, 1.0) : 0.0;
  const double at = t * (kTaskRamp.size() - 1);
  const size_t k = std::min(size_t(at), kTaskRamp.size() - 2);
  return mix(kTaskRamp[k], kTaskRamp[k + 1], at - double(k));
}

}  // namespace clb
