#pragma once
// Small shared pieces of the .cu files: deterministic column sums (db, the Fisher's bias term)
// and the grid size for grid-stride loops.
#include <cstdint>

namespace clb::cuda {

// out[c] = (accumulate ? out[c] : 0) + scale * sum_r f(M[r][c]), f = identity or square. One
// thread per column walks the rows in order: no atomics, bitwise reproducible; consecutive
// threads read consecutive columns (coalesced).
template <bool kSquare>
__global__ void column_sum_kernel(const float* M, int rows, int cols, float scale, bool accumulate, float* out) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= cols) return;
  float s = 0.0f;
  for (int r = 0; r < rows; ++r) {
    const float v = M[int64_t(r) * cols + c];
    s += kSquare ? v * v : v;
  }
  out[c] = accumulate ? out[c] + scale * s : scale * s;
}

template <bool kSquare>
void column_sum(const float* M, int rows, int cols, float scale, bool accumulate, float* out, cudaStream_t stream) {
  column_sum_kernel<kSquare><<<(cols + 127) / 128, 128, 0, stream>>>(M, rows, cols, scale, accumulate, out);
}

// Blocks of 256 threads for a grid-stride loop over n elements, at most 4096 blocks.
inline int grid_for(int64_t n) { return int((n + 255) / 256 < 4096 ? (n + 255) / 256 : 4096); }

}  // namespace clb::cuda
