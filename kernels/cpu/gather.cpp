#include <algorithm>
#include <cstring>

#include "kernels/cpu/cpu_ops.h"

namespace clb::cpu {

void gather(const GatherArgs& a) {
  const int64_t first = a.offset ? *a.offset : 0;
  for (int i = 0; i < a.B; ++i) {
    const int32_t row = a.rows[first + i], task = a.tasks[first + i];
    float* dst = a.x + int64_t(i) * a.dim;
    const int32_t* map = a.pixel_maps ? a.pixel_maps + int64_t(task) * a.dim : nullptr;
    if (a.table8) {
      const uint8_t* src = a.table8 + int64_t(row) * a.dim;
      if (map)
        for (int j = 0; j < a.dim; ++j) dst[j] = map[j] < 0 ? 0.0f : float(src[map[j]]) / 255.0f;
      else
        for (int j = 0; j < a.dim; ++j) dst[j] = float(src[j]) / 255.0f;
    } else if (map) {
      const float* src = a.table + int64_t(row) * a.dim;
      for (int j = 0; j < a.dim; ++j) dst[j] = map[j] < 0 ? 0.0f : src[map[j]];
    } else {
      std::memcpy(dst, a.table + int64_t(row) * a.dim, sizeof(float) * size_t(a.dim));
    }
    a.y[i] = a.labels[row];
    if (a.class_masks) std::copy_n(a.class_masks + int64_t(task) * a.C, a.C, a.mask + int64_t(i) * a.C);
  }
}

}  // namespace clb::cpu
