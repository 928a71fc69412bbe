// Whole training steps, whole Fisher computations and whole continual-learning runs, per backend
// (issue 4):
//   BM_train_step/backend:B/strategy:naive|ewc/opt:sgd/net:N/B:B    2048/B steps + a wait, per iteration
//   BM_fisher/backend:B/estimator:empirical|exact/net:N/B:B         one task's Fisher over ~2048 samples
//   BM_run/backend:B/strategy:S/scenario:permuted-fmnist/tasks:10   one whole run (train, Fisher, eval)
// Steps run through the engine the harness uses (benchmarks/suite/workload_bench.h): the CPU engine on
// every core (--threads), the resident engine with a recorded step (a CUDA graph) on CUDA. A run
// reports training, Fisher and evaluation samples/s, ms per task, ACC, the bytes the strategy
// holds and the process's peak resident memory during the run.
//
//   bench_train [--quick] [--threads N] [--dataset fashion-mnist|DIR|synthetic] [--benchmark_* flags]
// --dataset synthetic runs the same-sized generated stream (no files; what the GPU machine runs).
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <optional>

#include <fmt/format.h>

#include "benchmarks/common/bench_common.h"
#include "framework/core/error.h"
#include "framework/harness/task_loop.h"
#include "framework/strategies/registry.h"
#include "benchmarks/suite/workload_bench.h"

namespace clb::bench {
namespace {

using Clock = std::chrono::steady_clock;

// GEMM FLOPs of a step at batch B (README, rooflines): forward G, backward dW G and dX G - G_0
// (none below the first layer). The Fisher: forward G, dX for the K backward rows per sample of
// the estimator (exact: K = classes), and one squared GEMM G (the K rows' squares are summed
// while the operand loads, kernels/ops.h FisherDiagArgs).
double step_flops(const MlpArch& arch, int B, const std::string& what, int K = 1) {
  double G = 0, G0 = 2.0 * B * arch.in(0) * arch.out(0);
  for (int l = 0; l < arch.num_layers(); ++l) G += 2.0 * B * arch.in(l) * arch.out(l);
  if (what == "train") return 3 * G - G0;
  return G + K * (G - G0) + G;
}

// Samples per timed iteration, whatever the batch: 2048 / B training steps, or one Fisher call
// over 2048 / B minibatches.
constexpr int kSamplesPerIteration = 2048;

std::unique_ptr<Backend> backend_named(const std::string& name) {
  if (name == "cpu") return cpu_backend();
  std::string why;
  return cuda_backend(&why);
}

// Times `calls` of a Workload step followed by its wait, per iteration, on the wall clock: what a
// user's loop sees (host and device time together).
void time_workload(benchmark::State& st, const std::string& name, const std::string& backend, const WorkloadConfig& cfg,
                   int calls, const Work& per_call, const Ceiling& ceiling) {
  struct Setup {
    std::unique_ptr<Backend> be;
    std::unique_ptr<Workload> w;
  };
  Setup& s = once_per_benchmark<Setup>(name, [&] {
    auto setup = std::make_unique<Setup>();
    setup->be = backend_named(backend);
    setup->w = std::make_unique<Workload>(*setup->be, cfg);
    for (int i = 0; i < 2; ++i) setup->w->step();  // warm-up: first touch, recording, BLAS start-up
    setup->w->finish();
    return setup;
  });
  Workload& w = *s.w;
  for (auto _ : st) {
    const auto t0 = Clock::now();
    for (int i = 0; i < calls; ++i) w.step();
    w.finish();
    st.SetIterationTime(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  Work w_it = per_call;
  w_it.flops *= calls, w_it.samples *= calls;
  set_rate_counters(st, w_it, ceiling);
  st.SetLabel("bound=compute timing=warm wall-clock");
}

// Peak resident memory since the last reset (Linux: VmHWM; writing 5 to clear_refs resets it).
void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }
double peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return 1024.0 * std::stod(line.substr(6));
  return 0;
}

// Whole steps and runs are timed on the wall clock by the benchmark itself (SetIterationTime).
benchmark::internal::Benchmark* register_wall(const std::string& name, std::function<void(benchmark::State&)> fn) {
  return benchmark::RegisterBenchmark(name.c_str(), std::move(fn))->UseManualTime();
}

struct RunData {
  std::string label;  // scenario name in the benchmark's name
  ScenarioConfig sc;
  SourceData source;
  std::optional<Scenario> made;  // built once, on first use, for every run (a 10-task synthetic stream takes a while)
  const Scenario& scenario() {
    if (!made) made.emplace(make_scenario(sc, source));
    return *made;
  }
};

void register_runs(const SuiteFlags& flags, const std::vector<std::string>& backends) {
  auto data = std::make_shared<RunData>();
  data->sc.kind = "permuted", data->sc.tasks = flags.quick ? 2 : 10, data->sc.seed = 0;
  if (flags.quick) data->sc.train_per_task = 2000, data->sc.test_per_task = 1000;
  if (flags.data == "synthetic") {
    // Same sizes as permuted Fashion-MNIST: 60,000 training and 10,000 test samples per task.
    data->sc.kind = "synthetic";
    data->sc.train_per_task = flags.quick ? 2000 : 60000, data->sc.test_per_task = flags.quick ? 1000 : 10000;
    data->label = "synthetic-784";
  } else {
    data->source = load_source_data(flags.data.empty() ? "fashion-mnist" : flags.data);
    data->label = "permuted-fmnist";
  }
  for (const std::string& backend : backends)
    for (const std::string strategy : {"naive", "ewc", "online-ewc", "l2"}) {
      const std::string name = fmt::format("BM_run/backend:{}/strategy:{}/scenario:{}/tasks:{}", backend, strategy,
                                           data->label, data->sc.tasks);
      auto fn = [data, backend, strategy](benchmark::State& st) {
        auto be = backend_named(backend);
        const Scenario& scenario = data->scenario();
        const MlpArch arch = MlpArch::parse("784-400-400-10");
        const Mlp init(arch, 0);
        RunConfig cfg;  // the defaults of clbench run: Adam 1e-3, batch 128, one epoch, lambda 100
        cfg.optimizer = Optimizer::kAdam, cfg.lr = 1e-3f, cfg.batch = 128, cfg.lambda = 100.0f;
        auto s = make_strategy(strategy, {}, arch.num_params());
        for (auto _ : st) {
          reset_peak_rss();
          const auto t0 = Clock::now();
          const RunResult r = run_strategy(*be, scenario, init, *s, cfg, 0, [&](const std::string& msg) {
            fmt::print(stderr, "bench_train {} {}: {}\n", backend, strategy, msg);
          });
          const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
          st.SetIterationTime(seconds);
          st.counters["train_samples/s"] = r.train_samples_per_s();
          st.counters["fisher_samples/s"] = r.fisher_samples_per_s();
          st.counters["eval_samples/s"] = r.eval_samples_per_s();
          st.counters["ms_per_task"] = 1e3 * seconds / double(scenario.tasks.size());
          st.counters["acc"] = r.metrics.acc;
          st.counters["forgetting"] = r.metrics.forgetting;
          st.counters["strategy_bytes"] = double(r.strategy_bytes);
          st.counters["peak_rss_bytes"] = peak_rss_bytes();
        }
        st.SetLabel("Adam 1e-3, batch 128, 1 epoch/task, lambda 100, empirical Fisher on all training images");
      };
      register_wall(name, fn)->Iterations(1)->Unit(benchmark::kSecond);
    }
}

void register_all(const SuiteFlags& flags) {
  openblas_set_num_threads(1);  // the CPU engine splits batches over threads itself
  omp_set_num_threads(flags.threads);
  add_machine_context(flags.threads);
  const Ceilings ceilings = measure_ceilings(flags.threads);
  std::string why;
  std::vector<std::string> backends = flags.backends;
  if (backends.empty()) {
    backends = {"cpu"};
    if (cuda_backend(&why)) backends.push_back("cuda");
  } else if (std::count(backends.begin(), backends.end(), "cuda") && !cuda_backend(&why)) {
    fail("--backends cuda: no usable CUDA device ({}); use --backends cpu", why);
  }
  const bool cuda_timed = std::count(backends.begin(), backends.end(), "cuda") > 0;
  benchmark::AddCustomContext("cuda", cuda_timed ? "timed" : "not timed: " + (why.empty() ? "--backends cpu" : why));
  benchmark::AddCustomContext("cpu_rows", fmt::format("{} thread(s), the CPU engine", flags.threads));
  const Shapes s = suite_shapes(flags.quick);
  for (const std::string& backend : backends) {
    const Ceiling& ceiling = backend == "cpu" ? ceilings.cpu : ceilings.gpu;
    for (const std::string& net : s.nets) {
      const MlpArch arch = MlpArch::parse(net);
      for (int B : s.batches) {
        for (const std::string strategy : {"naive", "ewc"}) {
          WorkloadConfig cfg;
          cfg.workload = strategy == "naive" ? "train" : "train-ewc";
          cfg.arch = arch, cfg.batch = B, cfg.optimizer = Optimizer::kSgd;
          const Work per_step{step_flops(arch, B, "train"), 0, double(B), true};
          const std::string name =
              fmt::format("BM_train_step/backend:{}/strategy:{}/opt:sgd/net:{}/B:{}", backend, strategy, net, B);
          const int steps = std::max(1, kSamplesPerIteration / B);
          register_wall(name, [=](benchmark::State& st) { time_workload(st, name, backend, cfg, steps, per_step, ceiling); });
        }
        // The exact Fisher (10 backward rows per sample) only on the smallest net: on the large
        // ones a single call takes minutes on a CPU.
        for (const std::string estimator : {"empirical", "exact"}) {
          if (estimator == "exact" && net != s.nets.front()) continue;
          WorkloadConfig cfg;
          cfg.workload = "fisher", cfg.arch = arch, cfg.batch = B;
          cfg.estimator = parse_fisher_estimator(estimator);
          cfg.fisher_passes = std::max(1, kSamplesPerIteration / B);
          const int K = estimator == "exact" ? arch.num_outputs() : 1;
          const Work per_call{step_flops(arch, B, "fisher", K) * cfg.fisher_passes, 0, double(B) * cfg.fisher_passes, true};
          const std::string name = fmt::format("BM_fisher/backend:{}/estimator:{}/net:{}/B:{}", backend, estimator, net, B);
          register_wall(name, [=](benchmark::State& st) { time_workload(st, name, backend, cfg, 1, per_call, ceiling); });
        }
      }
    }
  }
  register_runs(flags, backends);
}

}  // namespace
}  // namespace clb::bench

int main(int argc, char** argv) {
  constexpr const char* kUsage =
      "bench_train: whole training steps, one task's Fisher and whole 10-task runs per strategy, on the CPU\n"
      "engine and (where a GPU is usable) the CUDA engine (results/README.md).\n"
      "  --quick          the smallest shapes, 2-task runs on 2,000 samples per task\n"
      "  --threads N      CPU threads (default 0: every core)\n"
      "  --dataset D      the runs' data: fashion-mnist (default, Debian's package), an IDX directory, or\n"
      "                   synthetic (a generated stream of the same size, no files)\n"
      "  --backends B     cpu, cuda or cpu,cuda (default: cpu, and cuda where a GPU is usable)\n"
      "Example: bench_train --threads 1 --benchmark_filter=train_step\n";
  return clb::bench::run_main(argc, argv, "bench_train", kUsage, true, clb::bench::register_all);
}
