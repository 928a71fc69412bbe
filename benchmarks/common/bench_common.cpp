#include "benchmarks/common/bench_common.h"

#include <cblas.h>
#ifdef __AVX2__
#include <immintrin.h>
#endif
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

#include <unistd.h>

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

// sgemm rate of `threads` cores, each multiplying its own n^3 matrices (how the CPU engine uses
// them: one single-threaded BLAS call per shard), the best over both transposes the passes use
// and n = 512, 1024, 2048: one shape alone was beaten by 1 % by an op's own GEMMs.
double cpu_sgemm_gflops(int threads, std::initializer_list<int> sizes = {512, 1024, 2048}) {
  openblas_set_num_threads(1);
  double best = 0;
  for (int n : sizes)
    for (CBLAS_TRANSPOSE tb : {CblasTrans, CblasNoTrans}) {
      std::vector<std::vector<float>> a(threads, std::vector<float>(size_t(n) * n, 0.5f)), c = a;
      for (const auto start = Clock::now(); seconds_since(start) < kCeilingSeconds / 3;) {
        const auto t0 = Clock::now();
#pragma omp parallel for num_threads(threads) schedule(static, 1)
        for (int t = 0; t < threads; ++t)
          cblas_sgemm(CblasRowMajor, CblasNoTrans, tb, n, n, n, 1, a[t].data(), n, a[t].data(), n, 0, c[t].data(), n);
        best = std::max(best, 2.0 * n * n * n * threads / seconds_since(t0) / 1e9);
      }
    }
  return best;
}

// The last-level cache's size (/sys, where a VM's sysconf may report the host's sum), else
// sysconf, else 32 MiB.
double llc_bytes() {
  std::ifstream in("/sys/devices/system/cpu/cpu0/cache/index3/size");
  long kib = 0;
  if (in >> kib && kib > 0) return double(kib) * 1024;
  const long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
  return l3 > 0 ? double(l3) : double(32 << 20);
}

// What the memory ceilings stream: 8x the last-level cache (at least 256 MiB), far past the caches.
size_t dram_bytes(double llc_bytes) { return size_t(std::max(8 * llc_bytes, double(256 << 20))); }

// Sums kStreams arrays of n floats (n a multiple of 8) read side by side into one vector sum each:
// kStreams independent chains cover the adds' latency, and as many prefetch streams as the fused
// update's 4-7 keep memory busy; one stream and one chain measured 30 % less than the update.
constexpr int kStreams = 8;
float sum_streams(const float* const a[kStreams], size_t n) {
#ifdef __AVX2__
  __m256 acc[kStreams];
  for (auto& v : acc) v = _mm256_setzero_ps();
  for (size_t i = 0; i < n; i += 8)
    for (int s = 0; s < kStreams; ++s) acc[s] = _mm256_add_ps(acc[s], _mm256_loadu_ps(a[s] + i));
  float lanes[8], total = 0;
  for (auto& v : acc) {
    _mm256_storeu_ps(lanes, v);
    for (float x : lanes) total += x;
  }
  return total;
#else
  float acc[kStreams][8] = {};
  for (size_t i = 0; i < n; i += 8)
    for (int s = 0; s < kStreams; ++s)
      for (int k = 0; k < 8; ++k) acc[s][k] += a[s][i + k];
  float total = 0;
  for (auto& row : acc)
    for (float x : row) total += x;
  return total;
#endif
}

// Read rate of `threads` cores, each summing its own `bytes / threads` (kStreams arrays) `reps`
// times in a row: the STREAM-like read, the least work per byte, so the most bytes per second.
double cpu_read_gbps(int threads, size_t bytes, int reps) {
  const size_t n = bytes / sizeof(float) / size_t(threads) / kStreams / 8 * 8;
  std::vector<std::vector<float>> a(size_t(threads) * kStreams, std::vector<float>(n, 1.0f));
  double best = 0, sink = 0;
  for (const auto start = Clock::now(); seconds_since(start) < kCeilingSeconds / 4;) {
    const auto t0 = Clock::now();
#pragma omp parallel for num_threads(threads) schedule(static, 1) reduction(+ : sink)
    for (int t = 0; t < threads; ++t) {
      const float* p[kStreams];
      for (int s = 0; s < kStreams; ++s) p[s] = a[size_t(t) * kStreams + s].data();
      for (int r = 0; r < reps; ++r) sink += sum_streams(p, n);
    }
    best = std::max(best, double(n) * kStreams * sizeof(float) * threads * reps / seconds_since(t0) / 1e9);
  }
  benchmark::DoNotOptimize(sink);
  return best;
}

// The fused update's memory traffic without its arithmetic, `bytes` per array: `reads` arrays read,
// the first `writes` of them written back in place (SGD 4 and 1, momentum 5 and 2, Adam 6 and 3).
// More streams in flight than a copy or a triad: on this kind of core it can move more bytes per
// second than either, so a row of the update is set against its own pattern too.
template <int kReads, int kWrites>
double cpu_update_traffic_gbps(int threads, size_t bytes) {
  const size_t n = bytes / sizeof(float);
  std::vector<std::vector<float>> a(kReads, std::vector<float>(n, 1e-3f));
  double best = 0;
  for (const auto start = Clock::now(); seconds_since(start) < kCeilingSeconds / 2;) {
    const auto t0 = Clock::now();
#pragma omp parallel num_threads(threads)
    {
      float* __restrict p[kReads];
      for (int k = 0; k < kReads; ++k) p[k] = a[size_t(k)].data();
#pragma omp for schedule(static)
      for (size_t i = 0; i < n; ++i) {
        float s = 0;
        for (int k = 0; k < kReads; ++k) s += p[k][i];
        for (int k = 0; k < kWrites; ++k) p[k][i] = s;
      }
    }
    best = std::max(best, 4.0 * (kReads + kWrites) * double(n) / seconds_since(t0) / 1e9);
  }
  benchmark::DoNotOptimize(a[0].data());
  return best;
}

// The best of the update's three patterns (the optimizers').
double cpu_update_traffics_gbps(int threads, size_t bytes) {
  return std::max({cpu_update_traffic_gbps<4, 1>(threads, bytes), cpu_update_traffic_gbps<5, 2>(threads, bytes),
                   cpu_update_traffic_gbps<6, 3>(threads, bytes)});
}

// STREAM triad a = b + s c over `bytes` per array split across `threads`: 2 reads + 1 write.
double cpu_triad_gbps(int threads, size_t bytes) {
  const size_t n = bytes / sizeof(float);
  std::vector<float> a(n, 0.0f), b(n, 1.0f), c(n, 2.0f);
  double best = 0;
  for (const auto start = Clock::now(); seconds_since(start) < kCeilingSeconds / 2;) {
    const auto t0 = Clock::now();
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t i = 0; i < n; ++i) a[i] = b[i] + 0.5f * c[i];
    best = std::max(best, 3.0 * double(bytes) / seconds_since(t0) / 1e9);
  }
  benchmark::DoNotOptimize(a.data());
  return best;
}

// memcpy of `bytes` split over `threads`, bytes read + written.
double cpu_copy_gbps(int threads, size_t bytes) {
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
  c.cpu.llc_bytes = llc_bytes();
  const size_t dram = dram_bytes(c.cpu.llc_bytes);
  const double read = cpu_read_gbps(cpu_threads, dram, 1), copy = cpu_copy_gbps(cpu_threads, dram / 2),
               triad = cpu_triad_gbps(cpu_threads, dram / 4), update = cpu_update_traffics_gbps(cpu_threads, dram / 8);
  c.cpu.gbps = std::max({read, copy, triad, update});
  const size_t l1 = 16 << 10, l2 = 256 << 10, l3 = size_t(c.cpu.llc_bytes / 2);
  c.cpu.cache_gbps = std::max({cpu_read_gbps(cpu_threads, l1 * cpu_threads, 4096),
                               cpu_read_gbps(cpu_threads, l2 * cpu_threads, 256),
                               cpu_read_gbps(cpu_threads, l3, 8)});
  benchmark::AddCustomContext(
      "ceiling_cpu_gflops",
      fmt::format("{:.1f} (OpenBLAS sgemm, best of 512^3, 1024^3, 2048^3 x two transposes, {} thread(s), one call "
                  "per thread)",
                  c.cpu.gflops, cpu_threads));
  benchmark::AddCustomContext(
      "ceiling_cpu_gbps",
      fmt::format("{:.1f} (memory: best of read {:.1f}, copy {:.1f}, triad {:.1f}, update traffic {:.1f} (4, 5 or 6 "
                  "arrays read, 1, 2 or 3 written back) over {} MiB, 8x the {} MiB last-level cache, {} thread(s))",
                  c.cpu.gbps, read, copy, triad, update, dram >> 20, int(c.cpu.llc_bytes) >> 20, cpu_threads));
  benchmark::AddCustomContext(
      "ceiling_cpu_cache_gbps",
      fmt::format("{:.1f} (cache: best read of {} KiB, {} KiB, {} MiB per run, warm, {} thread(s)); rows whose working "
                  "set fits in 2x the last-level cache",
                  c.cpu.cache_gbps, (l1 * cpu_threads) >> 10, (l2 * cpu_threads) >> 10, l3 >> 20, cpu_threads));
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
  const std::string bound = bound_of(w, c);
  const double ceiling = bound == "compute" ? c.gflops : bound == "cache" ? c.cache_gbps : c.gbps;
  const double work = w.compute_bound ? w.flops / 1e9 : w.bytes / 1e9;
  if (ceiling > 0 && work > 0) {
    st.counters["ceiling"] = ceiling;
    st.counters["%ceiling"] = Counter(100.0 * work * it / ceiling, Counter::kIsRate);
  }
}

double cpu_compute_gflops_now(int cpu_threads) { return cpu_sgemm_gflops(cpu_threads, {1024}); }

double cpu_memory_gbps_now(int cpu_threads, double llc_bytes) {
  const size_t dram = dram_bytes(llc_bytes);
  return std::max(cpu_triad_gbps(cpu_threads, dram / 4), cpu_update_traffics_gbps(cpu_threads, dram / 8));
}

std::string bound_of(const Work& w, const Ceiling& c) {
  if (w.compute_bound) return "compute";
  const double ws = w.working_set > 0 ? w.working_set : w.bytes;
  return c.cache_gbps > 0 && ws <= 2 * c.llc_bytes ? "cache" : "dram";
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
