// GPU op benchmarks: every kernel variant beside cuBLAS (variant 0), timed with CUDA events
// (UseManualTime), checked against variant 0 before timing: a wrong kernel gets no number.
//   BM_gemm_forward/v:V/B/n_in/n_out     linear forward (bias + ReLU epilogue), GFLOP/s
//   BM_fisher/v:V/B/n_in/n_out           squared-operand Fisher GEMM, GFLOP/s
//   BM_ewc_update/v:V/P                  fused EWC + SGD update, GB/s (20 B/param)
//   BM_device_copy/P                     cudaMemcpy device to device, GB/s (8 B/param): the update's goal
//                                        is 85% of this
// Peaks for %peak: H100 SXM fp32 ~67 TFLOP/s (datasheet), ~3.0 TB/s measured device copy.
#include <benchmark/benchmark.h>
#include <cuda_runtime_api.h>

#include <cmath>

#include "framework/cuda/backend_cuda.h"
#include "framework/rng.h"

namespace {

using clb::cuda::DeviceArray;

std::vector<float> randn(size_t n, uint64_t seed) {
  clb::Rng rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = float(rng.normal());
  return v;
}

// Times `op` with CUDA events around each iteration, recorded on the stream the ops run on (the
// backend's non-blocking stream: events on the legacy default stream would not wait for them).
template <class Op>
void time_gpu(benchmark::State& st, cudaStream_t stream, Op op) {
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  for (auto _ : st) {
    cudaEventRecord(start, stream);
    op();
    cudaEventRecord(stop, stream);
    cudaEventSynchronize(stop);
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    st.SetIterationTime(ms / 1e3);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
}

bool close(const std::vector<float>& a, const std::vector<float>& b, double rtol) {
  double scale = 0;
  for (float v : b) scale = std::max(scale, double(std::abs(v)));
  for (size_t i = 0; i < a.size(); ++i)
    if (!(std::abs(double(a[i]) - b[i]) <= rtol * std::abs(b[i]) + 1e-5 * scale)) return false;
  return true;
}

std::unique_ptr<clb::Backend> backend(benchmark::State& st, int gemm, int update = 2) {
  std::string why;
  if (clb::cuda::usable_devices(&why) == 0) {
    st.SkipWithError(("no usable CUDA device: " + why).c_str());
    return nullptr;
  }
  clb::cuda::Variants v;
  v.gemm = gemm, v.update = update;
  return clb::cuda::make_backend(v);
}

void BM_gemm_forward(benchmark::State& st) {
  const int v = int(st.range(0)), B = int(st.range(1)), n_in = int(st.range(2)), n_out = int(st.range(3));
  auto be = backend(st, v);
  if (!be) return;
  auto ref = backend(st, 0);
  DeviceArray<float> x(randn(size_t(B) * n_in, 1)), W(randn(size_t(n_out) * n_in, 2)), b(randn(n_out, 3));
  DeviceArray<float> y(size_t(B) * n_out), y0(size_t(B) * n_out);
  clb::LinearForwardArgs a{x.data(), W.data(), b.data(), y.data(), B, n_in, n_out, true};
  clb::LinearForwardArgs a0 = a;
  a0.y = y0.data();
  be->linear_forward(a);
  ref->linear_forward(a0);
  be->synchronize();
  ref->synchronize();
  if (!close(y.download(), y0.download(), 1e-3)) return st.SkipWithError("mismatch against cuBLAS");
  time_gpu(st, clb::cuda::stream_of(*be), [&] { be->linear_forward(a); });
  st.counters["GFLOP/s"] = benchmark::Counter(2.0 * B * n_in * n_out * st.iterations() / 1e9,
                                              benchmark::Counter::kIsRate);
}

void BM_fisher(benchmark::State& st) {
  const int v = int(st.range(0)), B = int(st.range(1)), n_in = int(st.range(2)), n_out = int(st.range(3));
  auto be = backend(st, v);
  if (!be) return;
  auto ref = backend(st, 0);
  DeviceArray<float> d(randn(size_t(B) * n_out, 4)), X(randn(size_t(B) * n_in, 5));
  DeviceArray<float> FW(std::vector<float>(size_t(n_out) * n_in, 0.0f)), Fb(std::vector<float>(n_out, 0.0f));
  DeviceArray<float> FW0(std::vector<float>(size_t(n_out) * n_in, 0.0f)), Fb0(std::vector<float>(n_out, 0.0f));
  clb::FisherDiagArgs a{d.data(), X.data(), FW.data(), Fb.data(), B, n_in, n_out, 1, 1.0f / B};
  clb::FisherDiagArgs a0 = a;
  a0.FW = FW0.data(), a0.Fb = Fb0.data();
  be->fisher_diag(a);
  ref->fisher_diag(a0);
  be->synchronize();
  ref->synchronize();
  if (!close(FW.download(), FW0.download(), 1e-3)) return st.SkipWithError("mismatch against cuBLAS");
  time_gpu(st, clb::cuda::stream_of(*be), [&] { be->fisher_diag(a); });
  st.counters["GFLOP/s"] = benchmark::Counter(2.0 * B * n_in * n_out * st.iterations() / 1e9,
                                              benchmark::Counter::kIsRate);
}

void BM_ewc_update(benchmark::State& st) {
  const int v = int(st.range(0));
  const int64_t P = st.range(1);
  auto be = backend(st, 3, v);
  if (!be) return;
  DeviceArray<float> theta(randn(P, 6)), g(randn(P, 7)), F(randn(P, 8)), anchor(randn(P, 9));
  clb::EwcUpdateArgs a;
  a.theta = theta.data(), a.grad = g.data(), a.fisher = F.data(), a.anchor = anchor.data();
  a.n = P, a.lr = 1e-6f, a.lambda = 1.0f;
  time_gpu(st, clb::cuda::stream_of(*be), [&] { be->ewc_update(a); });
  st.counters["GB/s"] = benchmark::Counter(20.0 * P * st.iterations() / 1e9, benchmark::Counter::kIsRate);
  st.counters["%peak"] = benchmark::Counter(100.0 * 20.0 * P * st.iterations() / 3.0e12, benchmark::Counter::kIsRate);
}

// The yard-stick for the update: a device-to-device copy of P floats (8 B/param moved).
void BM_device_copy(benchmark::State& st) {
  const int64_t P = st.range(0);
  auto be = backend(st, 3);
  if (!be) return;
  DeviceArray<float> src(randn(P, 10)), dst(P);
  const cudaStream_t s = clb::cuda::stream_of(*be);
  time_gpu(st, s, [&] { cudaMemcpyAsync(dst.data(), src.data(), P * sizeof(float), cudaMemcpyDeviceToDevice, s); });
  st.counters["GB/s"] = benchmark::Counter(8.0 * P * st.iterations() / 1e9, benchmark::Counter::kIsRate);
}

void gemm_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"v", "B", "n_in", "n_out"});
  for (int v : {0, 1, 2, 3, 4}) {
    b->Args({v, 128, 784, 400});
    b->Args({v, 128, 400, 400});
    b->Args({v, 4096, 4096, 4096});
  }
}

}  // namespace

BENCHMARK(BM_gemm_forward)->Apply(gemm_shapes)->UseManualTime();
BENCHMARK(BM_fisher)->Apply(gemm_shapes)->UseManualTime();
BENCHMARK(BM_ewc_update)->ArgNames({"v", "P"})->Args({1, 1 << 24})->Args({2, 1 << 24})->Args({2, 478410})->UseManualTime();
BENCHMARK(BM_device_copy)->ArgNames({"P"})->Arg(1 << 24)->Arg(1 << 26)->UseManualTime();
BENCHMARK_MAIN();
