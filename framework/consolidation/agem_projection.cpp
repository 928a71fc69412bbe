#include "framework/consolidation/agem_projection.h"

namespace clb {

bool agem_project(float* g, const float* g_ref, int64_t n) {
  double dot = 0, ref_sq = 0;
#pragma omp parallel for simd reduction(+ : dot, ref_sq) schedule(static) if (n > 65536)
  for (int64_t k = 0; k < n; ++k) {
    dot += double(g[k]) * g_ref[k];
    ref_sq += double(g_ref[k]) * g_ref[k];
  }
  if (dot >= 0 || ref_sq == 0) return false;
  const float c = float(dot / ref_sq);
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t k = 0; k < n; ++k) g[k] -= c * g_ref[k];
  return true;
}

}  // namespace clb
