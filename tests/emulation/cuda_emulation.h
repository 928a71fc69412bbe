#pragma once
// Kernel emulation, the device side: what lets kernels/cuda's unchanged device code compile and run
// on the host, in the spirit of Triton's interpreter mode. A launch runs its blocks in turn; each
// CUDA thread of a block is a fiber (its own stack and registers, cooperatively scheduled on one
// host thread), so every thread of a block is alive at once as on the card:
//   __syncthreads()    a barrier over the block's threads that have not exited
//   __shfl_xor_sync    a warp-wide exchange: every live lane of the warp writes, meets the others
//                      at a warp barrier, reads its partner, and meets them again
//   __shared__         one array per kernel (static storage), shared by the block's fibers
// Whatever a launch cannot do on a card fails loudly: a barrier some threads never reach (a
// deadlock on the card), a full-mask shuffle after lanes exited, more than 1024 threads per block.
// It checks indexing, synchronisation and tails against the CPU twins, not speed, the memory model
// (fibers switch only at barriers, so a missing __syncthreads between a write and another thread's
// read may go unnoticed unless the order of fibers exposes it) or the driver.
//
// The launch syntax `k<<<grid, block, smem, stream>>>(args)` is not C++: cmake/emulate_cu.cmake
// rewrites it to `::clb_emu::launch(::clb_emu::Config(grid, block, smem, stream), [](auto... a) {
// k(a...); })(args)` in a copy of each .cu/.cuh; nothing else in the device code changes.
#include <math.h>

#include <cstdint>
#include <cstring>
#include <functional>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))

struct CUstream_st;

struct uint3 {
  unsigned x = 0, y = 0, z = 0;
};
struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
struct alignas(16) float4 {
  float x, y, z, w;
};
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }

namespace clb_emu {

// The running fiber's coordinates (the scheduler sets them before switching to it).
const uint3& thread_idx();
const uint3& block_idx();
const dim3& block_dim();
const dim3& grid_dim();

void sync_threads();
// Lane `lane ^ offset`'s `bytes` bytes of value, exchanged through the warp's slots.
void shuffle_xor(unsigned mask, const void* value, void* out, int bytes, int offset);

struct Config {
  dim3 grid, block;
  size_t shared_bytes;
  CUstream_st* stream;
  Config(dim3 g, dim3 b, size_t s = 0, CUstream_st* st = nullptr) : grid(g), block(b), shared_bytes(s), stream(st) {}
};

// Runs `body` once per CUDA thread of the grid, or records it when cfg.stream is capturing a graph.
void submit(const Config& cfg, std::function<void()> body);

template <class Kernel>
struct Launch {
  Config cfg;
  Kernel kernel;
  template <class... Args>
  void operator()(Args... args) const {  // kernel arguments are copied, as at a real launch
    submit(cfg, [k = kernel, ... a = args]() { k(a...); });
  }
};

template <class Kernel>
Launch<Kernel> launch(const Config& cfg, Kernel kernel) {
  return {cfg, kernel};
}

}  // namespace clb_emu

#define threadIdx (::clb_emu::thread_idx())
#define blockIdx (::clb_emu::block_idx())
#define blockDim (::clb_emu::block_dim())
#define gridDim (::clb_emu::grid_dim())
constexpr int warpSize = 32;

inline void __syncthreads() { ::clb_emu::sync_threads(); }

template <class T>
T __shfl_xor_sync(unsigned mask, T value, int offset) {
  static_assert(sizeof(T) <= 8, "shuffles move at most 8 bytes");
  T out;
  ::clb_emu::shuffle_xor(mask, &value, &out, int(sizeof(T)), offset);
  return out;
}

// One host thread runs every fiber: a read-modify-write between switches is atomic.
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) {
  const unsigned long long old = *p;
  *p = old + v;
  return old;
}
inline int atomicAdd(int* p, int v) {
  const int old = *p;
  *p = old + v;
  return old;
}
inline float atomicAdd(float* p, float v) {
  const float old = *p;
  *p = old + v;
  return old;
}
