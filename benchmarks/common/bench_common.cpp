#include "benchmarks/common/bench_common.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "framework/core/error.h"
#ifdef CLB_HAVE_CUDA
#include <cuda_runtime_api.h>

#include "framework/backend/backend_array.h"
#include "framework/backend/cuda_backend.h"
#endif

namespace clb::bench {

Shapes suite_shapes(bool quick) {
  if (quick) return {{"784-400-400-10"}, {32}, {478410}};
  // The update sizes are the three nets' parameter counts and 100M (a large model's update).
  return {{"784-400-400-10", "784-1000-1000-10", "784-4096-4096-10"}, {32, 128, 1024},
          {478410, 1796010, 20037642, 100000000}};
}

std::unique_ptr<Backend> cpu_backend() { return make_backend("cpu"); }

std::unique_ptr<Backend> cuda_backend(std::string* why) {
#ifdef CLB_HAVE_CUDA
  if (cuda::usable_devices(why) == 0) return nullptr;
  return cuda::make_backend();
#else
  *why = "this build has no CUDA (nvcc was not found at configure time)";
  return nullptr;
#endif
}

std::vector<Target> targets(const std::string& op_family, std::string* cuda_note) {
  std::vector<Target> t{{"cpu", 0, cpu_backend}};
#ifdef CLB_HAVE_CUDA
  if (cuda::usable_devices(cuda_note) == 0) return t;
  std::vector<int> variants{1};  // ops with a single kernel
  if (op_family == "gemm") variants = {0, 1, 2, 3, 4};
  if (op_family == "update") variants = {1, 2};
  for (int v : variants)
    t.push_back({"cuda", v, [op_family, v] {
                   cuda::Variants cv;
                   if (op_family == "gemm") cv.gemm = v;
                   if (op_family == "update") cv.update = v;
                   return cuda::make_backend(cv);
                 }});
#else
  *cuda_note = "this build has no CUDA (nvcc was not found at configure time)";
#endif
  return t;
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Ceilings are the best of repeats over about a second: a shared machine's slow moments must not
// lower them (a figure above 100 % of its ceiling would be the sign).
constexpr double kCeilingSeconds = 1.0;

// sgemm rate of `threads` cores, each multiplying its own 1024^3 matrices (how the CPU engine
// uses them: one single-threaded BLAS call per shard).
double cpu_sgemm_gflops(int threads) {
  constexpr int n = 1024;
  openblas_set_num_threads(1);
  double best = 0;
  std::vector<std::vector<float>> a(threads, std::vector<float>(size_t(n) * n, 0.5f)), c = a;
  for (const auto start = Clock::now(); seconds_since(start) < kCeilingSeconds;) {
    const auto t0 = Clock::now();
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (int t = 0; t < threads; ++t)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1, a[t].data(), n, a[t].data(), n, 0, c[t].data(), n);
    best = std::max(best, 2.0 * n * n * n * threads / seconds_since(t0) / 1e9);
  }
  return best;
}

// memcpy of 256 MiB split over `threads`, bytes read + written.
double cpu_copy_gbps(int threads) {
  const size_t bytes = size_t(256) << 20;
  std::vector<char> src(bytes, 1), dst(bytes, 0);
  double best = 0;
  for (const auto start = Clock::now(); seconds_since(start) < kCeilingSeconds;) {
    const auto t0 = Clock::now();
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (int t = 0; t < threads; ++t) {
      const size_t lo = bytes / threads * t, hi = t + 1 == threads ? bytes : bytes / threads * (t + 1);
      std::memcpy(dst.data() + lo, src.data() + lo, hi - lo);
    }
    best = std::max(best, 2.0 * bytes / seconds_since(t0) / 1e9);
  }
  return best;
}

#ifdef CLB_HAVE_CUDA
// Two CUDA events around what `fn` issues on a stream (recorded on that stream: the backend's
// is non-blocking, so events on the legacy stream would not wait for its work).
class EventTimer {
 public:
  EventTimer() {
    CLB_CUDA_CHECK(cudaEventCreate(&start_));
    CLB_CUDA_CHECK(cudaEventCreate(&stop_));
  }
  ~EventTimer() {
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
  }
  EventTimer(const EventTimer&) = delete;
  EventTimer& operator=(const EventTimer&) = delete;
  double seconds(cudaStream_t s, const std::function<void()>& fn) {
    CLB_CUDA_CHECK(cudaEventRecord(start_, s));
    fn();
    CLB_CUDA_CHECK(cudaEventRecord(stop_, s));
    CLB_CUDA_CHECK(cudaEventSynchronize(stop_));
    float ms = 0;
    CLB_CUDA_CHECK(cudaEventElapsedTime(&ms, start_, stop_));
    return ms * 1e-3;
  }

 private:
  cudaEvent_t start_{}, stop_{};
};

// cuBLAS SGEMM (variant 0 of linear_forward, TF32 off) on 4096^3 and a 256 MiB device copy,
// best of 5 each after a first call.
Ceiling gpu_ceiling() {
  Ceiling c;
  std::string why;
  if (!cuda_backend(&why)) return c;
  cuda::Variants v0;
  v0.gemm = 0;
  auto be = cuda::make_backend(v0);
  const cudaStream_t s = cuda::stream_of(*be);
  constexpr int n = 4096;
  BackendArray<float> x(*be, size_t(n) * n), W(*be, size_t(n) * n), b(*be, n), y(*be, size_t(n) * n);
  x.zero(), W.zero(), b.zero();
  const LinearForwardArgs a{x.data(), W.data(), b.data(), y.data(), n, n, n, false};
  EventTimer timer;
  for (int rep = 0; rep < 6; ++rep) {  // the first call loads cuBLAS's kernels
    const double t = timer.seconds(s, [&] { be->linear_forward(a); });
    if (rep > 0) c.gflops = std::max(c.gflops, 2.0 * n * n * n / t / 1e9);
  }
  const size_t bytes = size_t(256) << 20;
  BackendArray<char> src(*be, bytes), dst(*be, bytes);
  src.zero();
  for (int rep = 0; rep < 6; ++rep) {
    const double t = timer.seconds(s, [&] {
      CLB_CUDA_CHECK(cudaMemcpyAsync(dst.data(), src.data(), bytes, cudaMemcpyDeviceToDevice, s));
    });
    if (rep > 0) c.gbps = std::max(c.gbps, 2.0 * bytes / t / 1e9);
  }
  return c;
}

// A buffer twice the L2's size, overwritten before a cold timing so no operand is cached.
struct L2Flusher {
  void* buf = nullptr;
  size_t bytes = 0;
  L2Flusher() {
    int dev = 0, l2 = 0;
    if (cudaGetDevice(&dev) == cudaSuccess && cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, dev) == cudaSuccess &&
        l2 > 0 && cudaMalloc(&buf, 2 * size_t(l2)) == cudaSuccess)
      bytes = 2 * size_t(l2);
  }
  ~L2Flusher() {
    if (buf) cudaFree(buf);
  }
  void flush(cudaStream_t s) {
    if (buf) CLB_CUDA_CHECK(cudaMemsetAsync(buf, int(++round & 0xff), bytes, s));
  }
  unsigned round = 0;
};
#endif

}  // namespace

Ceilings measure_ceilings(int cpu_threads) {
  Ceilings c;
  c.cpu.gflops = cpu_sgemm_gflops(cpu_threads);
  c.cpu.gbps = cpu_copy_gbps(cpu_threads);
  benchmark::AddCustomContext("ceiling_cpu_gflops",
                              fmt::format("{:.1f} (OpenBLAS sgemm 1024^3, {} thread(s), one call per thread)", c.cpu.gflops, cpu_threads));
  benchmark::AddCustomContext("ceiling_cpu_gbps", fmt::format("{:.1f} (memcpy 256 MiB, {} thread(s), read + write)", c.cpu.gbps, cpu_threads));
#ifdef CLB_HAVE_CUDA
  c.gpu = gpu_ceiling();
  if (c.gpu.gflops > 0) {
    benchmark::AddCustomContext("ceiling_gpu_gflops", fmt::format("{:.1f} (cuBLAS SGEMM 4096^3, TF32 off)", c.gpu.gflops));
    benchmark::AddCustomContext("ceiling_gpu_gbps", fmt::format("{:.1f} (cudaMemcpy device to device 256 MiB, read + write)", c.gpu.gbps));
  }
#endif
  return c;
}

void set_rate_counters(benchmark::State& st, const Work& w, const Ceiling& c) {
  using benchmark::Counter;
  const double it = double(st.iterations());
  if (w.flops > 0) st.counters["GFLOP/s"] = Counter(w.flops * it / 1e9, Counter::kIsRate);
  if (w.bytes > 0) st.counters["GB/s"] = Counter(w.bytes * it / 1e9, Counter::kIsRate);
  if (w.samples > 0) st.counters["samples/s"] = Counter(w.samples * it, Counter::kIsRate);
  // The ceiling's unit is the bound's: GFLOP/s for compute-bound ops, GB/s for memory-bound ones.
  const double ceiling = w.compute_bound ? c.gflops : c.gbps;
  const double work = w.compute_bound ? w.flops / 1e9 : w.bytes / 1e9;
  if (ceiling > 0 && work > 0) {
    st.counters["ceiling"] = ceiling;
    st.counters["%ceiling"] = Counter(100.0 * work * it / ceiling, Counter::kIsRate);
  }
}

void time_calls(benchmark::State& st, Backend& be, const std::function<void()>& fn, bool cold) {
#ifdef CLB_HAVE_CUDA
  if (be.name() != "cpu") {
    static L2Flusher flusher;  // one per process: cudaMalloc of 100 MB is not free
    const cudaStream_t s = cuda::stream_of(be);
    EventTimer timer;
    for (auto _ : st) {
      if (cold) flusher.flush(s);
      st.SetIterationTime(timer.seconds(s, fn));
    }
    return;
  }
#endif
  (void)cold;
  for (auto _ : st) fn();
  be.synchronize();
}

benchmark::internal::Benchmark* register_timed(const std::string& name, const std::string& backend,
                                               std::function<void(benchmark::State&)> fn) {
  auto* b = benchmark::RegisterBenchmark(name.c_str(), std::move(fn));
  return backend == "cpu" ? b->UseRealTime() : b->UseManualTime();
}

std::shared_ptr<void>& benchmark_slot(const std::string& name) {
  static std::string current;
  static std::shared_ptr<void> slot;
  if (name != current) slot.reset(), current = name;
  return slot;
}

void add_machine_context(int cpu_threads) {
  std::ifstream in("/proc/cpuinfo");
  std::string line, model = "unknown";
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  benchmark::AddCustomContext("cpu_model", model);
  benchmark::AddCustomContext("cpu_threads", std::to_string(cpu_threads));
  std::string why;
  auto gpu = cuda_backend(&why);
#ifdef CLB_HAVE_CUDA
  if (gpu) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, 0) == cudaSuccess) benchmark::AddCustomContext("gpu", p.name);
  }
#endif
  if (!gpu) benchmark::AddCustomContext("gpu", "none: " + why);
}

SuiteFlags parse_suite_flags(int argc, char** argv, bool allow_data) {
  // bench_train's flags: --threads, --dataset; bench_ops has --quick only.
  SuiteFlags f;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* flag) -> std::string {
      if (i + 1 >= argc) fail("{} needs a value", flag);
      return argv[++i];
    };
    if (a == "--quick") {
      f.quick = true;
    } else if (allow_data && a == "--threads") {
      const std::string v = value("--threads");
      char* end = nullptr;
      const long t = std::strtol(v.c_str(), &end, 10);
      if (*end || t < 0 || t > 1024) fail("--threads '{}': use 0 (every core) or a positive count", v);
      f.threads = int(t);
    } else if (allow_data && a == "--dataset") {
      f.data = value("--dataset");
    } else if (allow_data && a == "--backends") {
      const std::string v = value("--backends");
      f.backends.clear();
      for (size_t b = 0; b <= v.size();) {
        const size_t e = std::min(v.find(',', b), v.size());
        const std::string name = v.substr(b, e - b);
        if (name != "cpu" && name != "cuda") fail("--backends '{}': use cpu, cuda or cpu,cuda", v);
        f.backends.push_back(name);
        b = e + 1;
      }
    } else {
      fail("unknown flag '{}' (this program's own: --quick{}; Google Benchmark's: --benchmark_*, see --help)", a,
           allow_data ? ", --threads N, --dataset D, --backends B" : "");
    }
  }
  if (f.threads == 0) f.threads = int(std::thread::hardware_concurrency());
  return f;
}

int run_main(int argc, char** argv, const char* program, const char* usage, bool bench_train_flags,
             const std::function<void(const SuiteFlags&)>& register_all) {
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") fmt::print("{}\nGoogle Benchmark's flags:\n", usage);
  benchmark::Initialize(&argc, argv);
  try {
    const SuiteFlags flags = parse_suite_flags(argc, argv, bench_train_flags);
    register_all(flags);
  } catch (const SettingError& e) {
    // The core names settings by config field; these programs' flags are the fields' names.
    const std::string what = e.with_names([](const std::string& field) {
      if (field == "fisher.estimator") return std::string("--estimator");
      std::string flag = "--" + field;
      for (char& c : flag)
        if (c == '_' || c == '.') c = '-';
      return flag;
    });
    fmt::print(stderr, "{}: error: {}\n", program, what);
    return 2;
  } catch (const std::exception& e) {  // clb::Error, and CudaError from kernels/
    fmt::print(stderr, "{}: error: {}\n", program, e.what());
    return 2;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace clb::bench
