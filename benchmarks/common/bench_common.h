#pragma once
// What bench_ops and bench_train share: the backends to time (with their kernel variants), the
// ceilings every figure is set against (measured at the start of each run, on this machine or
// card), one timer for both backends, and the shapes of the suite.
#include <benchmark/benchmark.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "framework/backend/backend.h"

namespace clb::bench {

// The shapes users meet (issue 4): three nets, three batch sizes, updates from 0.5M to 100M
// parameters. --quick (tests, smoke runs) keeps the smallest of each.
struct Shapes {
  std::vector<std::string> nets;
  std::vector<int> batches;
  std::vector<int64_t> update_params;
};
Shapes suite_shapes(bool quick);

// A backend and kernel variant to time. CPU: variant 0, the reference path. CUDA: GEMM variants
// 0 (cuBLAS) to 4 and update variants 1-2 (kernels/cuda/cuda_ops.h).
struct Target {
  std::string backend;  // "cpu" | "cuda"
  int variant = 0;
  std::function<std::unique_ptr<Backend>()> make;
};
// The CPU, plus every CUDA variant of `op_family` ("gemm", "update" or "single") when a device is
// usable; *cuda_note says why CUDA is absent otherwise.
std::vector<Target> targets(const std::string& op_family, std::string* cuda_note);
std::unique_ptr<Backend> cpu_backend();
// A CUDA backend with default variants, or null (and *why) when none is usable or built.
std::unique_ptr<Backend> cuda_backend(std::string* why);

// Ceilings measured once per run, each the best of repeats, so a row above 100 % of its ceiling
// means the ceiling is wrong. Also added to the benchmark JSON's context, so the report shows what
// each % is of.
//   CPU (at `cpu_threads`): compute, the best sgemm of three shapes; memory (DRAM), the best of a
//   STREAM-like read (a sum), copy and triad over arrays 8x the last-level cache; cache, the best
//   read (a sum) of arrays that fit L1, L2 and half the last-level cache, warm.
//   GPU, when a device is usable: cuBLAS SGEMM, device-to-device copy; no cache ceiling (rows cold).
struct Ceiling {
  double gflops = 0, gbps = 0;
  double cache_gbps = 0;  // 0: none (every memory-bound row is set against gbps)
  double llc_bytes = 0;   // last-level cache size
};
struct Ceilings {
  Ceiling cpu, gpu;
};
Ceilings measure_ceilings(int cpu_threads);
// The CPU memory ceiling measured again now (triad and update traffic past the caches, about a
// second): a shared machine's memory bandwidth drifts by a third within minutes, so a row streaming
// from memory is set against the better of this and the start's (bench_ops does, per such row).
double cpu_memory_gbps_now(int cpu_threads, double llc_bytes);
// The same for the compute ceiling (sgemm 1024^3, both transposes, about a third of a second): the
// clock drifts too, and an op's own GEMMs once beat the start's figure by 1 %.
double cpu_compute_gflops_now(int cpu_threads);

// Writes the counters every row carries: GFLOP/s and/or GB/s from the work done per iteration,
// the ceiling that bounds the op and the percentage of it reached, samples/s when samples > 0.
// A memory-bound op whose working set (the distinct bytes a call touches; 0: its bytes) fits in
// twice the last-level cache may run from cache on repeated calls: it is set against the cache
// ceiling (bound "cache"); a larger one streams from memory on every call (bound "dram", timing
// "cold"). Compute-bound ops: bound "compute".
struct Work {
  double flops = 0, bytes = 0, samples = 0;
  bool compute_bound = true;
  double working_set = 0;
};
void set_rate_counters(benchmark::State& st, const Work& w, const Ceiling& c);
// "compute", "cache" or "dram", as set_rate_counters decides.
std::string bound_of(const Work& w, const Ceiling& c);

// Times one call of `fn` per iteration on `be`. CUDA (register with UseManualTime): events on the
// backend's stream, with L2 flushed before each call when `cold`. CPU (register with
// UseRealTime): Google Benchmark's clock around the whole loop, warm caches.
void time_calls(benchmark::State& st, Backend& be, const std::function<void()>& fn, bool cold);
// Registers `fn` under `name` with the timing mode time_calls needs for `backend`.
benchmark::internal::Benchmark* register_timed(const std::string& name, const std::string& backend,
                                               std::function<void(benchmark::State&)> fn);

// Google Benchmark calls a benchmark's function again each time it resizes the iteration count;
// set-up that costs seconds (operands of up to 2.4 GB, the check against the CPU, an engine) is
// made once per benchmark and kept until the next benchmark starts, which frees it first.
std::shared_ptr<void>& benchmark_slot(const std::string& name);
template <class T, class Make>
T& once_per_benchmark(const std::string& name, Make make) {
  std::shared_ptr<void>& slot = benchmark_slot(name);
  if (!slot) slot = std::shared_ptr<T>(make());
  return *static_cast<T*>(slot.get());
}

// Machine context for the JSON (CPU model, cores, commit and date come from the suite script).
void add_machine_context(int cpu_threads);

// Parses the flags Google Benchmark left in argv (--quick, --threads N); errors end the program
// with one line naming the flag.
struct SuiteFlags {
  bool quick = false;
  int threads = 0;  // CPU threads for whole steps; 0 = every core
  std::string data;  // bench_train --dataset: "fashion-mnist", an IDX directory or "synthetic"
  std::vector<std::string> backends;  // bench_train --backends; empty: cpu, and cuda where a GPU is usable
};
SuiteFlags parse_suite_flags(int argc, char** argv, bool bench_train_flags);

// main() of both binaries: Google Benchmark's flags, then ours, then `register_all`; a clb::Error
// (a bad flag, missing data) ends the program with one line and exit status 2.
// --help prints `usage` (what the binary times and its own flags) before Google Benchmark's.
int run_main(int argc, char** argv, const char* program, const char* usage, bool bench_train_flags,
             const std::function<void(const SuiteFlags&)>& register_all);

}  // namespace clb::bench
