// The kernel emulation itself (cuda_emulation.h): what the kernel tests rely on it for. Every CUDA
// thread runs exactly once with its own indices, __syncthreads really waits for the whole block,
// shuffles exchange across the warp, and what a card would refuse or hang on fails here.
#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include <cuda_runtime_api.h>

namespace {

__global__ void record_indices(int* hits, int* order) {
  const int t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const int b = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const int threads = blockDim.x * blockDim.y * blockDim.z;
  hits[b * threads + t] += 1;
  order[b * threads + t] = b;
}

TEST(Emulation, EveryThreadOfTheGridRunsOnceWithItsIndices) {
  const dim3 grid(2, 3, 2), block(4, 3, 5);
  const int n = 12 * 60;
  std::vector<int> hits(n, 0), order(n, -1);
  clb_emu::launch(clb_emu::Config(grid, block), record_indices)(hits.data(), order.data());
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(hits[i], 1) << i;
    EXPECT_EQ(order[i], i / 60) << i;
  }
}

// A tree sum in shared memory: wrong unless every __syncthreads holds every thread back until the
// whole block has written (thread 0 runs first and would read unwritten slots).
__global__ void block_sum(const int* in, int* out) {
  __shared__ int part[256];
  part[threadIdx.x] = in[blockIdx.x * 256 + threadIdx.x];
  __syncthreads();
  for (int half = 128; half > 0; half /= 2) {
    if (threadIdx.x < unsigned(half)) part[threadIdx.x] += part[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] = part[0];
}

TEST(Emulation, SyncthreadsIsABarrier) {
  std::vector<int> in(3 * 256), out(3, 0);
  std::iota(in.begin(), in.end(), 1);
  clb_emu::launch(clb_emu::Config(3, 256), block_sum)(in.data(), out.data());
  for (int b = 0; b < 3; ++b) {
    const int first = b * 256 + 1, last = b * 256 + 256;
    EXPECT_EQ(out[b], (first + last) * 256 / 2) << b;
  }
}

// Butterfly sum over a warp: every lane ends with the warp's total.
__global__ void warp_sum(const float* in, float* out) {
  float v = in[threadIdx.x];
  for (int off = 16; off > 0; off /= 2) v += __shfl_xor_sync(0xffffffffu, v, off);
  out[threadIdx.x] = v;
}

TEST(Emulation, ShuffleXorExchangesAcrossTheWarp) {
  std::vector<float> in(64), out(64);
  std::iota(in.begin(), in.end(), 0.0f);
  clb_emu::launch(clb_emu::Config(1, 64), warp_sum)(in.data(), out.data());
  for (int t = 0; t < 64; ++t) EXPECT_EQ(out[t], t < 32 ? 496.0f : 1520.0f) << t;
}

// Half a warp waits at __syncthreads while the other half waits for it at a full-mask shuffle:
// neither can finish (a hang on the card).
__global__ void divergent_barrier(int* x) {
  if (threadIdx.x % 32 < 16)
    __syncthreads();
  else
    x[threadIdx.x] = __shfl_xor_sync(0xffffffffu, x[threadIdx.x], 1);
}

__global__ void shuffle_after_exit(float* x) {
  if (threadIdx.x == 3) return;
  x[threadIdx.x] = __shfl_xor_sync(0xffffffffu, x[threadIdx.x], 1);
}

TEST(Emulation, WhatACardCannotDoFails) {
  std::vector<int> x(64, 0);
  EXPECT_THROW(clb_emu::launch(clb_emu::Config(1, 64), divergent_barrier)(x.data()), std::runtime_error);
  std::vector<float> y(32, 1.0f);
  EXPECT_THROW(clb_emu::launch(clb_emu::Config(1, 32), shuffle_after_exit)(y.data()), std::runtime_error);
  // Too many threads per block: no launch, the error waits for cudaGetLastError as on the card.
  clb_emu::launch(clb_emu::Config(1, 2048), record_indices)(x.data(), x.data());
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

__global__ void add_one(int* x) { x[threadIdx.x] += 1; }

TEST(Emulation, AGraphRecordsItsLaunchesAndReplaysThem) {
  cudaStream_t s = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), cudaSuccess);
  int* x = nullptr;
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&x), 4 * sizeof(int)), cudaSuccess);
  ASSERT_EQ(cudaMemsetAsync(x, 0, 4 * sizeof(int), s), cudaSuccess);
  ASSERT_EQ(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), cudaSuccess);
  clb_emu::launch(clb_emu::Config(1, 4, 0, s), add_one)(x);
  EXPECT_EQ(cudaStreamSynchronize(s), cudaErrorStreamCaptureUnsupported);  // not while capturing
  cudaGetLastError();
  cudaGraph_t g = nullptr;
  ASSERT_EQ(cudaStreamEndCapture(s, &g), cudaSuccess);
  EXPECT_EQ(x[0], 0) << "a captured launch does not run";
  cudaGraphExec_t e = nullptr;
  ASSERT_EQ(cudaGraphInstantiate(&e, g, 0), cudaSuccess);
  ASSERT_EQ(cudaGraphLaunch(e, s), cudaSuccess);
  ASSERT_EQ(cudaGraphLaunch(e, s), cudaSuccess);
  EXPECT_EQ(x[3], 2);
  // Copies must stay inside one allocation (the check the runtime makes on a card).
  int host[5] = {};
  EXPECT_EQ(cudaMemcpy(host, x, 5 * sizeof(int), cudaMemcpyDeviceToHost), cudaErrorInvalidValue);
  cudaGetLastError();
  cudaGraphExecDestroy(e);
  cudaGraphDestroy(g);
  cudaFree(x);
  cudaStreamDestroy(s);
}

}  // namespace
