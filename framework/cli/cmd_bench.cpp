// clbench bench: times one workload on random data and prints samples/s (median of repeats).
#include <memory>

#include "framework/cli/commands.h"
#include "framework/cli/flag_checks.h"
#include "benchmarks/suite/workload_bench.h"
#include "framework/engine/engine.h"

namespace clb::cli {

namespace {

struct BenchOptions {
  std::string workload = "train", optimizer = "sgd", arch = "784-400-400-10", estimator = "empirical", backend = "auto";
  int batch = 128, repeats = 7, threads = 0;
  double seconds = 0.5;
};

void bench(const BenchOptions& o) {
  set_threads(o.threads);
  check_positive(o.repeats, "--repeats");
  check_in_range(o.seconds, 0.001, 60.0, "--seconds");
  check_in_range(o.batch, 1, 1 << 20, "--batch");
  WorkloadConfig cfg;
  cfg.workload = o.workload;
  cfg.arch = MlpArch::parse(o.arch);
  cfg.batch = o.batch;
  cfg.estimator = parse_fisher_estimator(o.estimator);
  cfg.optimizer = parse_optimizer(o.optimizer);
  cfg.repeats = o.repeats;
  cfg.seconds_per_repeat = o.seconds;
  auto be = make_backend(o.backend);
  const WorkloadResult r = time_workload(*be, cfg);
  const double lo = *std::min_element(r.samples_per_s.begin(), r.samples_per_s.end());
  const double hi = *std::max_element(r.samples_per_s.begin(), r.samples_per_s.end());
  fmt::print("workload={} arch={} batch={} estimator={} optimizer={} backend={} samples_per_s={:.0f} min={:.0f} max={:.0f} "
             "repeats={}\n",
             o.workload, cfg.arch.str(), o.batch, o.workload == "fisher" ? o.estimator : "-", o.workload == "fisher" ? "-" : o.optimizer, be->name(), r.median,
             lo, hi, o.repeats);
}

}  // namespace

void register_bench(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* c = app.add_subcommand("bench", "Time one workload on random data: samples/s, median of repeats");
  c->option_defaults()->always_capture_default();
  c->add_option("--workload", o->workload, "train | train-ewc | fisher")
      ->check(CLI::IsMember({"train", "train-ewc", "fisher"}));
  c->add_option("--arch", o->arch, "MLP widths");
  c->add_option("--batch", o->batch, "Minibatch size");
  c->add_option("--estimator", o->estimator, "fisher: empirical | sampled | exact | batch")
      ->check(CLI::IsMember({"empirical", "sampled", "exact", "batch"}));
  c->add_option("--optimizer", o->optimizer, "train workloads: sgd | momentum | adam")
      ->check(CLI::IsMember({"sgd", "momentum", "adam"}));
  c->add_option("--repeats", o->repeats, "Timed repeats (the median is printed)");
  c->add_option("--seconds", o->seconds, "Seconds per repeat");
  c->add_option("--threads", o->threads, "CPU threads (0 = every core)");
  c->add_option("--backend", o->backend, "cpu | cuda | auto (CUDA when a GPU is usable, else cpu)")
      ->check(CLI::IsMember(backend_names()));
  c->callback([o] { bench(*o); });
}

}  // namespace clb::cli
