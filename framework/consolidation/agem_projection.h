#pragma once
// A-GEM's projection (Chaudhry et al., ICLR 2019; docs/DESIGN.md §3): a step may not increase the loss on
// the replay memory to first order, so a gradient g that opposes the memory's gradient g_ref is
// replaced by its projection onto the half-space g . g_ref >= 0:
//   g <- g - (g . g_ref / g_ref . g_ref) g_ref      when g . g_ref < 0
// Dot products in double: over millions of parameters float sums lose the sign of small ones.
#include <cstdint>

namespace clb {

// Projects g (n floats) in place; returns whether it had to. A zero g_ref leaves g as it is.
bool agem_project(float* g, const float* g_ref, int64_t n);

}  // namespace clb
