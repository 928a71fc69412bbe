// clbench run: trains every requested strategy on the same task sequence from the same initial
// model, for each seed, and prints the metric table and accuracy matrices.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include <fmt/ranges.h>

#include "framework/core/atomic_file.h"
#include "framework/core/build_info.h"
#include "framework/core/bounded_json.h"
#include "framework/io/checkpoint.h"
#include "framework/io/run_checkpoint.h"
#include "framework/cli/commands.h"
#include "framework/cli/flag_checks.h"
#include "framework/cli/run_output.h"
#include "framework/cli/stop_signals.h"
#include "framework/core/error.h"
#include "framework/engine/engine.h"
#include "framework/harness/report.h"
#include "framework/harness/run_config.h"
#include "framework/harness/task_loop.h"
#include "framework/strategies/registry.h"

namespace clb::cli {

namespace {

// The flags: RunConfig's own fields where a flag sets one as it is, and the text of those parsed
// into it (names, lists, per-strategy values).
struct RunOptions {
  RunConfig cfg = defaults();
  std::string strategies = default_strategies();
  // Adam at 1e-3: on 5-task permuted Fashion-MNIST naive forgets (BWT about -30 points) and EWC
  // keeps it (results/cpu.md as of b7136cc); each strategy's lambda is its own (the registry's,
  // results/defaults.md). Plain SGD is stable under the penalty only while lr x lambda x max(F) < 2,
  // which a fixed default cannot promise as F grows with every task.
  std::string lambda;  // "" (each strategy's default), "100", or per strategy: "100,l2=0.01"
  std::string fisher = "empirical", optimizer = "adam", memory_policy = "reservoir";
  std::string task_boundaries = "given", stream = "sharp";
  int64_t mixing_width = 2000;
  bool memory_samples_given = false;
  std::string out, save, config, resume;
  std::vector<std::string> given;  // the flags on the command line, by long name

  static RunConfig defaults() {
    RunConfig c;
    c.lr = 0.0f;  // 0: the optimizer's default (default_lr)
    // The replay memory: 2,000 samples (~1.5 MiB of Fashion-MNIST as uint8), the size the replay
    // literature compares at; --memory-bytes alone sizes it by bytes instead.
    c.memory.max_samples = 2000;
    return c;
  }
};


// "--lambda 100,l2=0.01": a bare number is every strategy's lambda, name=value overrides one; a
// strategy given neither takes its default (the registry's, chosen by a sweep: results/defaults.md).
void parse_lambdas(const std::string& spec, RunConfig& cfg) {
  std::optional<float> every;
  std::map<std::string, float> named;
  for (const auto& entry : split_list(spec)) {
    const auto eq = entry.find('=');
    const std::string name = eq == std::string::npos ? "" : entry.substr(0, eq);
    const std::string value = eq == std::string::npos ? entry : entry.substr(eq + 1);
    float v = 0;
    size_t used = 0;
    try {
      v = std::stof(value, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != value.size() || value.empty() || !std::isfinite(v) || v < 0)
      fail("--lambda {}: '{}' is not a finite number >= 0; write e.g. 100 or 100,l2=0.01", spec, value);
    if (name.empty()) {
      every = v;
    } else {
      if (std::find(cfg.strategies.begin(), cfg.strategies.end(), name) == cfg.strategies.end())
        fail("--lambda {}: '{}' is not one of the strategies run (--strategy)", spec, name);
      named[name] = v;
    }
  }
  cfg.lambda = every.value_or(0.0f);
  cfg.lambda_overrides.clear();
  for (const std::string& name : cfg.strategies)
    cfg.lambda_overrides[name] = named.count(name) ? named[name] : every ? *every : strategy_info(name).default_lambda;
}

// --help's list of the default lambdas.
std::string default_lambdas() {
  std::string s;
  for (const StrategyInfo& i : strategy_registry())
    if (i.default_lambda > 0) s += fmt::format("{}{} {}", s.empty() ? "" : ", ", i.name, i.default_lambda);
  return s;
}

float default_lr(Optimizer o) { return o == Optimizer::kAdam ? 1e-3f : o == Optimizer::kMomentum ? 0.01f : 0.05f; }

// "model.safetensors" + "fisher" -> "model.fisher.safetensors"
std::string sibling(const std::string& path, const std::string& tag) {
  const std::string ext = ".safetensors";
  std::string stem = path;
  if (stem.size() > ext.size() && stem.compare(stem.size() - ext.size(), ext.size(), ext) == 0)
    stem.resize(stem.size() - ext.size());
  return stem + "." + tag + ext;
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;  // ru_maxrss is KiB on Linux
}

// A run's detection scores and replay memory on stderr, as it ends.
void report_run(const RunResult& r, const RunConfig& cfg, const std::function<void(const std::string&)>& progress) {
  const std::string& name = r.strategy;
  const uint64_t seed = r.seed;
  const DetectionReport& d = r.detection;
  progress(fmt::format("{} seed {}: ACC {:.1f}%, train {:.0f} samples/s{}", name, seed, 100 * r.metrics.acc,
                       r.train_samples_per_s(), r.memory.empty() ? "" : "; kept: " + r.memory));
  if (cfg.detect_boundaries)
    progress(fmt::format("{} seed {}: task boundaries detected at batches [{}], true [{}]: {} of {} found, mean delay "
                         "{:.1f} batches, {} false alarm(s) ({:.2f} per 1000 batches), {} missed ({:.2f} per 1000 batches)",
                         name, seed, fmt::join(d.detected_boundaries, ", "), fmt::join(d.true_boundaries, ", "),
                         d.scores.found, d.true_boundaries.size(), d.scores.mean_delay, d.scores.false_alarms,
                         d.scores.false_alarms_per_1000, d.scores.missed, d.scores.missed_per_1000));
  if (cfg.detect_boundaries && !d.segment_identity.empty())
    progress(fmt::format("{} seed {}: task identity of each segment [{}], true [{}]: task-id accuracy {:.1f}%", name,
                         seed, fmt::join(d.segment_identity, ", "), fmt::join(d.segment_truth, ", "),
                         100 * d.task_id_accuracy));
  if (d.heads_picked > 0)
    progress(fmt::format("{} seed {}: task-IL without task labels: the head of each test set picked by recognising "
                         "its inputs: the right head {} of {} times a trained task was tested (tasks not yet trained have no head: "
                         "all classes compete)",
                         name, seed, d.heads_right, d.heads_picked));
}

// --save: the final model, and its Fisher on the last task's training data (what EWC would
// consolidate); with several strategies the name goes into the file names.
void save_model_and_fisher(Backend& be, const Scenario& scenario, const RunResult& r, const RunConfig& cfg,
                           const std::string& save, const std::function<void(const std::string&)>& progress) {
  const MlpArch& arch = r.final_model.arch;
  const std::string model_path = cfg.strategies.size() == 1 ? save : sibling(save, r.strategy);
  const std::string fisher_path = sibling(model_path, "fisher");
  std::map<std::string, std::string> meta{{"strategy", r.strategy}, {"seed", std::to_string(r.seed)},
                                          {"scenario", scenario.kind}};
  save_flat_params(model_path, arch, r.final_model.params, meta);
  FisherStats fs;
  const FisherConfig& fc = cfg.fisher;
  const int last = int(scenario.tasks.size()) - 1;
  auto F = fisher_on(be, scenario.tasks, r.final_model, sample_refs(scenario.tasks[last], Split::kTrain, fc.samples),
                     fc, &fs);
  meta["estimator"] = to_string(fc.estimator);
  meta["N"] = std::to_string(fs.samples);
  meta["task"] = std::to_string(last + 1);
  save_flat_params(fisher_path, arch, F, meta);
  progress(fmt::format("saved {} and {}", model_path, fisher_path));
}

// Checks that hold wherever the config came from (flags or --config), before any work.
void check_config(const RunConfig& cfg) {
  // 0 tasks: all the data makes (split, task-column), counted once it is loaded.
  if (!data_sets_task_count(cfg.scenario) || cfg.scenario.tasks != 0) check_positive(cfg.scenario.tasks, "--tasks");
  check_positive(cfg.batch, "--batch");
  check_positive(cfg.epochs, "--epochs");
  check_positive(cfg.seeds, "--seeds");
  check_in_range(cfg.lca_batches, 0, 100000, "--lca-batches");
  check_in_range(cfg.fisher.draws, 1, kMaxFisherDraws, "--fisher-draws");
  if (!(cfg.scenario.validation >= 0.0 && cfg.scenario.validation <= 0.5))
    fail("--validation {}: the held-out share of each task's training samples must lie in [0, 0.5] (0 = the test "
         "set; 0.1 is usual)", cfg.scenario.validation);
  if (!std::isfinite(cfg.scenario.rotation_step))
    fail("--rotation-step {}: must be a finite number of degrees", cfg.scenario.rotation_step);
  check_non_negative(cfg.fisher.samples, "--fisher-samples");
  check_finite_non_negative(cfg.lr, "--lr");
  if (!(cfg.momentum >= 0.0f && cfg.momentum < 1.0f))
    fail("--momentum {}: the momentum coefficient must lie in [0, 1) (0.9 is usual); from 1 up the steps grow "
         "without bound", cfg.momentum);
  if (!(cfg.strategy.gamma > 0.0f && cfg.strategy.gamma <= 1.0f))
    fail("--gamma {}: online EWC's decay must lie in (0, 1]", cfg.strategy.gamma);
  if (!(cfg.strategy.temperature > 0.0f && std::isfinite(cfg.strategy.temperature)))
    fail("--lwf-temperature {}: the distillation's temperature must be a positive number (2 is usual)",
         cfg.strategy.temperature);
  check_finite_non_negative(cfg.strategy.der_beta, "--der-beta");
  check_finite_non_negative(cfg.strategy.gem_margin, "--gem-margin");
  if (cfg.strategies.empty()) fail("--strategy: give at least one of {}", strategy_name_list());
  for (size_t i = 0; i < cfg.strategies.size(); ++i) {
    const std::string& name = cfg.strategies[i];
    make_strategy(name, {}, 1);  // validates every name before hours of work
    if (std::find(cfg.strategies.begin(), cfg.strategies.begin() + std::ptrdiff_t(i), name) !=
        cfg.strategies.begin() + std::ptrdiff_t(i))
      fail("--strategy {}: '{}' is listed twice; list each strategy once (use --seeds for repeats)",
           fmt::join(cfg.strategies, ","), name);
  }
}

bool given(const RunOptions& o, const std::string& flag) {
  return std::find(o.given.begin(), o.given.end(), flag) != o.given.end();
}

// The flags' text parsed into o.cfg.
RunConfig config_from_flags(const RunOptions& o) {
  RunConfig cfg = o.cfg;
  cfg.set_arch(o.cfg.arch);
  cfg.strategies = split_list(o.strategies);
  parse_lambdas(o.lambda, cfg);
  cfg.optimizer = parse_optimizer(o.optimizer);
  check_finite_non_negative(cfg.lr, "--lr");  // before 0 becomes the optimizer's default
  if (cfg.lr == 0) cfg.lr = default_lr(cfg.optimizer);
  cfg.detect_boundaries = o.task_boundaries == "detect";
  if (o.stream == "blurry") {
    if (o.mixing_width < 2)
      fail("--mixing-width {}: the samples over which neighbouring tasks mix must be at least 2", o.mixing_width);
    cfg.blurry_width = o.mixing_width;
  }
  cfg.memory.policy = parse_replay_policy(o.memory_policy);
  const int64_t memory_samples = cfg.memory.max_samples;
  if (cfg.memory.max_bytes > 0 && !o.memory_samples_given) cfg.memory.max_samples = 0;
  if (memory_samples < 0 || cfg.memory.max_bytes < 0 || (cfg.memory.max_samples == 0 && cfg.memory.max_bytes == 0))
    fail("--memory-samples {} --memory-bytes {}: give the replay memory a positive size in samples or bytes",
         memory_samples, cfg.memory.max_bytes);
  cfg.fisher.estimator = parse_fisher_estimator(o.fisher);
  if (cfg.fisher.estimator == FisherEstimator::kBatch) cfg.fisher.batch = cfg.batch;  // Avalanche's minibatch
  // A task column makes the tasks (one per value, all of them unless --tasks says how many).
  if (!cfg.scenario.task_column.empty()) {
    if (given(o, "scenario") && cfg.scenario.kind != "task-column")
      fail("--task-column {}: the column makes the tasks; drop --scenario {}", cfg.scenario.task_column, cfg.scenario.kind);
    cfg.scenario.kind = "task-column";
    if (!given(o, "tasks")) cfg.scenario.tasks = 0;
  } else if (cfg.scenario.kind == "task-column") {
    fail("--scenario task-column: name the CSV column that gives each row's task with --task-column NAME");
  }
  // Split without --tasks: as many tasks as the classes make (10 classes, 2 per task: 5).
  if (cfg.scenario.kind == "split" && !given(o, "tasks")) cfg.scenario.tasks = 0;
  for (const char* flag : {"classes-per-task", "class-order"})
    if (given(o, flag) && cfg.scenario.kind != "split")
      fail("--{}: sets how split makes its tasks; add --scenario split (the scenario is {})", flag, cfg.scenario.kind);
  return cfg;
}

// --config and --resume run what a file recorded, as it was: beside `source` (the flag, e.g.
// "--config x.json") only the flags in `allowed` may be given.
void check_only_given(const RunOptions& o, const std::string& source, const std::string& what,
                      const std::vector<std::string>& allowed) {
  for (const std::string& flag : o.given)
    if (std::find(allowed.begin(), allowed.end(), flag) == allowed.end()) {
      std::string list;
      for (size_t i = 1; i < allowed.size(); ++i)
        list += (i == 1 ? "--" : i + 1 == allowed.size() ? " and --" : ", --") + allowed[i];
      fail("{}: {} as it was, so --{} cannot change it; only {} go with --{}", source, what, flag, list, allowed[0]);
    }
}

// The machine a recorded run runs on now: --threads and --backend, where given.
void take_machine_flags(const RunOptions& o, RunConfig& cfg) {
  if (given(o, "threads")) cfg.threads = o.cfg.threads;
  if (given(o, "backend")) cfg.backend = o.cfg.backend;
}

// --config FILE: the run a results.json recorded, where it may be written and on what machine.
RunConfig config_from_file(const RunOptions& o) {
  check_only_given(o, "--config " + o.config, "reruns the recorded run", {"config", "out", "save", "threads", "backend"});
  std::ifstream in(o.config, std::ios::binary);
  if (!in) fail("--config {}: cannot open the file; give the results.json a clbench run --out wrote", o.config);
  nlohmann::json j;
  try {  // a results.json holds a few thousand values; a million is not one clbench wrote
    j = parse_json_bounded(read_file(o.config), "--config " + o.config, {.max_values = 1'000'000});
  } catch (const Error& e) {
    fail("{}; give the results.json a clbench run --out wrote", e.what());
  }
  RunConfig cfg = run_config_from_json(j, o.config);
  take_machine_flags(o, cfg);
  return cfg;
}

// The tables on stdout: what finished (all of it, or what a signal left).
void print_tables(const RunConfig& cfg, const MlpArch& arch, const std::vector<RunResult>& runs, double seconds) {
  const std::string& kind = cfg.scenario.kind;
  fmt::print("## clbench run: {} ({}-IL), {} tasks, {}, {}, lr {}, batch {}, {} epoch(s), {} seed(s)\n\n", kind,
             kind == "split" ? cfg.scenario.il : "domain", cfg.scenario.tasks, arch.str(), to_string(cfg.optimizer), cfg.lr,
             cfg.batch, cfg.epochs, cfg.seeds);
  if (runs.empty()) {
    fmt::print("no run finished\n");
    return;
  }
  fmt::print("{}", markdown_summary(runs, cfg.fisher.samples));
  fmt::print("{}", markdown_costs(runs));
  fmt::print("{}", markdown_acc_matrices(runs));
  fmt::print("\nwall time {:.1f} s, peak RSS {:.0f} MiB\n", seconds, peak_rss_mib());
}

// --resume DIR: the checkpoint of the run to continue, and its config (what a machine may change:
// --threads and --backend).
StateArchive checkpoint_to_resume(const RunOptions& o) {
  check_only_given(o, "--resume " + o.resume, "continues the run", {"resume", "threads", "backend"});
  const nlohmann::json manifest = RunOutput::read_manifest(o.resume);
  const std::string path = RunOutput::checkpoint_in(o.resume);
  if (!std::filesystem::exists(path)) {
    if (RunOutput::says_complete(manifest))
      fail("--resume {}: that run is complete (manifest.json); there is nothing to continue", o.resume);
    fail("--resume {}: no checkpoint.safetensors there; give the --out directory of a run that was stopped", o.resume);
  }
  return read_checkpoint(path);
}

// Test hook (README, "Tests"): CLBENCH_RAISE_AFTER_TASK=N[:KILL|TERM|INT] raises that signal
// (TERM by default) after the N-th task's checkpoint of this invocation, so tests stop a run at a
// known point without racing it.
void maybe_raise_after_task(int tasks_done) {
  const char* spec = std::getenv("CLBENCH_RAISE_AFTER_TASK");
  if (!spec) return;
  const std::string s = spec;
  const auto colon = s.find(':');
  if (std::atoi(s.substr(0, colon).c_str()) != tasks_done) return;
  const std::string name = colon == std::string::npos ? "TERM" : s.substr(colon + 1);
  std::raise(name == "KILL" ? SIGKILL : name == "INT" ? SIGINT : SIGTERM);
}

// What the command line asks for: the config (from the flags, --config, or the checkpoint --resume
// continues), that checkpoint, where --out and --save write, and the wall time already spent.
struct RunPlan {
  RunConfig cfg;
  std::optional<StateArchive> resume;
  std::string out, save;
  double wall_before = 0;
  std::string started;  // when the run began (a resumed run keeps its first start)
};

RunPlan plan_run(const RunOptions& o) {
  RunPlan p;
  p.out = o.out, p.save = o.save;
  if (!o.resume.empty()) {
    p.resume = checkpoint_to_resume(o);
    p.cfg = run_config_from_json(p.resume->get<nlohmann::json>("run.config"), p.resume->source());
    take_machine_flags(o, p.cfg);
    p.out = o.resume;
    p.save = p.resume->get<std::string>("run.save");
    p.wall_before = p.resume->get_double("run.wall_seconds");
    p.started = p.resume->get<std::string>("run.started");
  } else {
    p.cfg = o.config.empty() ? config_from_flags(o) : config_from_file(o);
    p.started = utc_timestamp();
  }
  check_config(p.cfg);
  return p;
}

// --save FILE can be written: checked before any training.
void check_save_path(const std::string& save) {
  const auto parent = std::filesystem::path(save).parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent))
    fail("--save {}: directory {} does not exist; create it first", save, parent.string());
  if (std::filesystem::is_directory(save))
    fail("--save {}: is a directory; give a file name, e.g. {}/model.safetensors", save, save);
  const std::string probe = fmt::format("{}.tmp.probe.{}", save, ::getpid());  // the atomic writer's temp pattern
  write_file_atomic(probe, "");
  std::filesystem::remove(probe);
}

// The data set of a data scenario (none for generated ones), checked against the arch.
SourceData load_data(const RunConfig& cfg, const MlpArch& arch, const ProgressFn& progress) {
  if (cfg.scenario.kind == "synthetic" || cfg.scenario.kind == "recurring") return {};
  progress(fmt::format("loading {}", cfg.dataset));
  SourceData data = load_source_data(cfg.dataset, cfg.scenario.task_column);
  const int classes = std::max(data.train->num_classes, data.test->num_classes);
  if (arch.input_dim() != data.train->dim)
    fail("--arch {}: input width {} does not match the {} features of {}; start the arch with {}", cfg.arch,
         arch.input_dim(), data.train->dim, cfg.dataset, data.train->dim);
  if (arch.num_outputs() < classes)
    fail("--arch {}: {} outputs cannot hold the {} classes (labels 0..{}) of {}; end the arch with {}", cfg.arch,
         arch.num_outputs(), classes, classes - 1, cfg.dataset, classes);
  return data;
}

Scenario scenario_for(const RunConfig& cfg, const SourceData& data, uint64_t seed) {
  ScenarioConfig sc = cfg.scenario;
  sc.seed = seed;
  Scenario scenario = make_scenario(sc, data);
  for (const auto& t : scenario.tasks)
    if (cfg.fisher.samples > int64_t(t.train_rows.size()))
      fail("--fisher-samples {}: task {} has only {} training samples; ask for at most that many (0 = all)",
           cfg.fisher.samples, t.id + 1, t.train_rows.size());
  return scenario;
}

// The runs a checkpoint lists as finished, in the run's order (strategy x seed, seed-major).
std::vector<RunResult> finished_runs(const StateArchive& a, const RunConfig& cfg) {
  const size_t S = cfg.strategies.size();
  std::vector<RunResult> runs;
  for (const auto& j : a.get<std::vector<nlohmann::json>>("run.finished")) {
    const size_t i = runs.size();
    runs.push_back(run_from_json(j, a.source() + " (run.finished)", cfg.scenario.tasks, cfg.lca_batches + 1));
    if (i >= S * size_t(cfg.seeds) || runs[i].strategy != cfg.strategies[i % S] || runs[i].seed != cfg.seed + i / S)
      a.bad("run.finished", fmt::format("lists {} seed {} as run {}, which is not this run's order", runs[i].strategy,
                                        runs[i].seed, i + 1));
  }
  return runs;
}

void run(const RunOptions& o) {
  const auto t_start = std::chrono::steady_clock::now();
  auto progress = [&](const std::string& msg) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    fmt::print(stderr, "[{:6.1f}s] {}\n", s, msg);
  };
  RunPlan plan = plan_run(o);
  RunConfig& cfg = plan.cfg;
  std::optional<StateArchive>& resume = plan.resume;
  auto wall_seconds = [&] {
    return plan.wall_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  };
  set_threads(cfg.threads);
  const MlpArch arch = MlpArch::parse(cfg.arch);
  auto backend = make_backend(cfg.backend);
  cfg.backend = backend->name();

  // Everything that can fail without training, before any: the outputs, the data, a checkpoint's
  // finished runs, every strategy's settings on the tasks of the seed that trains first (made once:
  // the loop starts on them).
  if (!plan.save.empty()) check_save_path(plan.save);
  const SourceData data = load_data(cfg, arch, progress);
  if (cfg.scenario.tasks == 0) cfg.scenario.tasks = task_count(cfg.scenario, data);  // all the data makes
  const int S = int(cfg.strategies.size()), total = cfg.seeds * S;
  std::vector<RunResult> runs;  // the finished ones
  if (resume) runs = finished_runs(*resume, cfg);
  const int first = int(runs.size());
  auto seed_of = [&](int i) { return cfg.seed + uint64_t(i / S); };
  std::optional<Scenario> scenario(scenario_for(cfg, data, seed_of(first)));
  for (const auto& name : cfg.strategies) {
    auto strategy = make_strategy(name, cfg.strategy, arch.num_params());
    preflight_strategy(*backend, *scenario, Mlp(arch, seed_of(first)), *strategy, cfg, seed_of(first));
  }
  std::optional<RunOutput> out;
  if (!plan.out.empty()) out.emplace(plan.out, to_json(cfg), total, resume.has_value());

  auto config_now = [&] {
    nlohmann::json config = to_json(cfg);
    config["wall_seconds"] = wall_seconds();
    config["peak_rss_mib"] = peak_rss_mib();
    config["provenance"] = provenance(plan.started);
    return config;
  };
  // Where the run is, beside what run_strategy saves of the one in progress.
  auto checkpoint = [&](StateArchive& a) {
    a.put("run.config", to_json(cfg));
    a.put("run.save", plan.save);
    a.put_double("run.wall_seconds", wall_seconds());
    a.put("run.started", plan.started);
    std::vector<nlohmann::json> finished;
    for (const auto& r : runs) finished.push_back(run_json(r));
    a.put("run.finished", finished);
    out->write_checkpoint(a);
  };
  const std::atomic<int>& stop = catch_stop_signals();
  int tasks_done = 0;  // in this invocation, for the test hook
  try {
    for (int i = first; i < total; ++i) {
      const uint64_t seed = seed_of(i);
      const std::string& name = cfg.strategies[size_t(i % S)];
      if (i != first && i % S == 0) scenario.emplace(scenario_for(cfg, data, seed));
      if (i == first || i % S == 0) {
        progress(fmt::format("seed {}: {} scenario ({}-IL), {} tasks, {} train / {} test samples in task 1, model {} "
                             "({} parameters), backend {}",
                             seed, scenario->kind, scenario->il, scenario->tasks.size(),
                             scenario->tasks[0].train_rows.size(), scenario->tasks[0].test_rows.size(), arch.str(),
                             arch.num_params(), backend->name()));
      }
      RunControl control;
      control.stop = &stop;
      control.on_task_end = [&](StateArchive& a) {
        if (out) checkpoint(a);
        maybe_raise_after_task(++tasks_done);
      };
      if (resume && i == first && resume->values().contains("loop.tasks_done")) {
        control.resume = &*resume;
        progress(fmt::format("{} seed {}: resuming after task {} from {}", name, seed,
                             resume->get<int>("loop.tasks_done"), resume->source()));
      }
      auto strategy = make_strategy(name, cfg.strategy, arch.num_params());
      runs.push_back(run_strategy(*backend, *scenario, Mlp(arch, seed), *strategy, cfg, seed, progress, control));
      report_run(runs.back(), cfg, progress);
      if (!plan.save.empty() && i < S) save_model_and_fisher(*backend, *scenario, runs.back(), cfg, plan.save, progress);
      if (out && i + 1 < total) {
        StateArchive between_runs;
        checkpoint(between_runs);
        out->publish(config_now(), runs, "running");
      }
      // A signal during the run's last evaluations or --save: the next run does not start.
      if (i + 1 < total && stop.load()) throw Interrupted(stop.load());
    }
  } catch (const Interrupted& e) {
    const std::string why = "interrupted by " + signal_name(e.signal());
    if (out) out->publish(config_now(), runs, why);
    print_tables(cfg, arch, runs, wall_seconds());
    progress(fmt::format("{}: {} of {} runs finished{}", why, runs.size(), total,
                         out ? fmt::format("; they are in {0}; continue with clbench run --resume {0}", out->dir()) : ""));
    throw;
  } catch (const Error& e) {
    if (out) {
      out->publish(config_now(), runs, std::string("failed: ") + e.what());
      progress(fmt::format("the {} finished runs are in {}", runs.size(), out->dir()));
    }
    throw;
  }
  print_tables(cfg, arch, runs, wall_seconds());
  if (out) {
    out->finish(config_now(), runs);
    progress(fmt::format("wrote {0}/results.json, {0}/results.csv and {0}/manifest.json", out->dir()));
  }
}

}  // namespace

namespace {

// check_only: stop after checking the config; into: also store it there.
void add_run(CLI::App& app, bool check_only, RunConfig* into) {
  auto o = std::make_shared<RunOptions>();
  RunConfig& cfg = o->cfg;
  CLI::App* c = app.add_subcommand("run", "Train strategies on a task sequence and score them (ACC, BWT, FWT, ...)");
  c->option_defaults()->always_capture_default();
  c->add_option("--scenario", cfg.scenario.kind,
                "Task sequence: permuted | split | rotated | task-column (CSV: a column names each row's task) | "
                "synthetic | recurring (K generated tasks visited in turn)")
      ->check(CLI::IsMember({"permuted", "split", "rotated", "task-column", "synthetic", "recurring"}));
  c->add_option("--recurring-tasks", cfg.scenario.recurring_tasks, "recurring: distinct tasks K (task t is task t mod K)");
  c->add_option("--scenario-il", cfg.scenario.il, "split only: task (logit masking per task) | class (one head)")
      ->check(CLI::IsMember({"task", "class"}));
  c->add_option("--dataset", cfg.dataset, "fashion-mnist (Debian's dataset-fashion-mnist), an IDX directory, or a directory with train.csv and test.csv");
  c->add_option("--tasks", cfg.scenario.tasks, "Number of tasks; split and task-column without it: all the data makes (classes / --classes-per-task, "
                "the column's values), with it the first N");
  c->add_option("--classes-per-task", cfg.scenario.classes_per_task, "split: classes per task (10 classes: 2 gives 5 tasks, 5 gives 2)");
  c->add_option("--class-order", cfg.scenario.class_order,
                "split: seeded (a random class order drawn from each seed, recorded in results.json as class_order) | "
                "fixed (label order: 0,1 then 2,3 ...)")
      ->check(CLI::IsMember({"seeded", "fixed"}));
  c->add_option("--task-column", cfg.scenario.task_column,
                "CSV data: the header's column that names each row's task (a year, a regime, a sensor); tasks in "
                "the order their values first appear in train.csv; implies --scenario task-column");
  c->add_option("--arch", cfg.arch, "MLP widths, input-hidden...-output");
  std::string strategy_help = "Comma-separated:";
  for (const StrategyInfo& s : strategy_registry()) strategy_help += fmt::format("\n  {}: {}", s.name, s.summary);
  c->add_option("--strategy", o->strategies, strategy_help);
  c->add_option("--lambda", o->lambda,
                "Penalty strength; penalty = lambda/2 sum F (theta-theta*)^2 (lwf and icarl: the distillation's weight; "
                "der++: the stored logits' weight). One number for all, or per strategy: "
                "100,l2=0.01. Unset: each strategy's default (" + default_lambdas() +
                "): ewc's, si's and mas's chosen by clbench sweep on validation splits of split and permuted "
                "Fashion-MNIST (results/defaults.md), online-ewc and ewc+er take ewc's, l2 is not swept");
  c->add_option("--gamma", cfg.strategy.gamma, "online-ewc: decay of the running Fisher, in (0, 1]");
  c->add_option("--lwf-temperature", cfg.strategy.temperature,
                "lwf: temperature of the softened outputs it distils (lambda weighs the distillation)");
  c->add_option("--der-beta", cfg.strategy.der_beta,
                "der++: weight of the memory rows' cross-entropy (lambda weighs the stored logits' MSE)");
  c->add_option("--gem-margin", cfg.strategy.gem_margin,
                "gem: lower bound of the QP's dual variables, the paper's memory strength (0: the plain projection)");
  c->add_option("--fisher", o->fisher, "Fisher estimator: empirical | sampled | exact | batch (comparison only)")
      ->check(CLI::IsMember({"empirical", "sampled", "exact", "batch"}));
  c->add_option("--fisher-samples", cfg.fisher.samples, "Samples per task for the Fisher (0 = the whole training set)");
  c->add_option("--fisher-draws", cfg.fisher.draws, "sampled estimator: label draws per sample");
  c->add_option("--optimizer", o->optimizer, "sgd | momentum | adam")->check(CLI::IsMember({"sgd", "momentum", "adam"}));
  c->add_option("--lr", cfg.lr, "Learning rate (0 = the optimizer's default: adam 0.001, momentum 0.01, sgd 0.05)");
  c->add_option("--momentum", cfg.momentum, "momentum optimizer: coefficient");
  c->add_option("--batch", cfg.batch, "Minibatch size");
  c->add_option("--epochs", cfg.epochs, "Epochs per task");
  c->add_option("--train-per-task", cfg.scenario.train_per_task, "Training samples per task, a seeded random subset (0 = all)");
  c->add_option("--test-per-task", cfg.scenario.test_per_task, "Test samples per task (0 = all)");
  c->add_option("--rotation-step", cfg.scenario.rotation_step, "rotated: degrees between tasks (0 = 180/tasks)");
  c->add_option("--validation", cfg.scenario.validation,
                "Score each task on this share of its training samples, held out from training, instead of its test "
                "set (0 = the test set); clbench sweep chooses settings this way");
  c->add_option("--seed", cfg.seed, "First seed (data order, permutations, init)");
  c->add_option("--seeds", cfg.seeds, "Seeds to run (seed, seed+1, ...): the table shows mean ± std");
  c->add_option("--lca-batches", cfg.lca_batches, "LCA beta: accuracy on the current task after 0..beta minibatches");
  c->add_option("--memory-samples", cfg.memory.max_samples, "Replay memory size in samples (strategies that keep one)")
      ->each([o](const std::string&) { o->memory_samples_given = true; });
  c->add_option("--memory-bytes", cfg.memory.max_bytes,
                "Replay memory size in bytes (0 = by --memory-samples; given alone, it alone sizes the memory)");
  c->add_option("--memory-policy", o->memory_policy, "Replay memory policy: reservoir | class-balanced")
      ->check(CLI::IsMember({"reservoir", "class-balanced"}));
  c->add_option("--task-boundaries", o->task_boundaries,
                "given: strategies are told where tasks end | detect: they are not; a detector on the inputs' "
                "statistics and the loss finds the boundaries (reported with delay and false alarms), the strategy "
                "consolidates there, recurring tasks are recognised")
      ->check(CLI::IsMember({"given", "detect"}));
  c->add_option("--stream", o->stream,
                "sharp: each task's samples, then the next task's | blurry: around each boundary the two tasks' "
                "samples mix over --mixing-width samples, the new task's share rising linearly")
      ->check(CLI::IsMember({"sharp", "blurry"}));
  c->add_option("--mixing-width", o->mixing_width, "blurry: samples over which neighbouring tasks mix");
  c->add_option("--threads", cfg.threads, "CPU threads (0 = every core)");
  c->add_option("--backend", cfg.backend, "cpu | cuda | auto (CUDA when a GPU is usable, else cpu)")
      ->check(CLI::IsMember(backend_names()));
  c->add_option("--out", o->out,
                "Directory for results.json and results.csv (rewritten as each strategy x seed finishes), "
                "manifest.json (written last: complete or not) and, while the run lasts, checkpoint.safetensors "
                "(for --resume); it must not hold an earlier run's results");
  c->add_option("--save", o->save, "Write the final model of the first seed and its Fisher (FILE, FILE-stem.fisher.safetensors); with several strategies the name goes into the file names");
  c->add_option("--config", o->config,
                "Rerun the run a results.json recorded (its config block: every setting); only --out, --save, "
                "--threads and --backend may be given with it");
  c->add_option("--resume", o->resume,
                "Continue the run whose --out DIR this is, stopped by a signal, a kill or an error, from its last "
                "checkpoint (after each task); it ends with the results an uninterrupted run writes. Only --threads and "
                "--backend may be given with it");
  c->callback([o, c, check_only, into] {
    for (const CLI::Option* opt : c->get_options())
      if (opt->count() > 0 && !opt->get_lnames().empty()) o->given.push_back(opt->get_lnames().front());
    if (check_only) {
      RunConfig checked = o->config.empty() ? config_from_flags(*o) : config_from_file(*o);
      check_config(checked);
      if (into) *into = std::move(checked);
      return;
    }
    run(*o);
  });
}

}  // namespace

void register_run(CLI::App& app, bool check_only) { add_run(app, check_only, nullptr); }

RunConfig run_config_from_flags(const std::vector<std::string>& flags) {
  CLI::App app;
  RunConfig cfg;
  add_run(app, /*check_only=*/true, &cfg);
  check_integer_flags(app);  // as main() does: "-1" or "1e3" for an integer flag fails
  std::vector<std::string> args = {"run"};
  args.insert(args.end(), flags.begin(), flags.end());
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    fail("{}", e.what());
  }
  return cfg;
}

}  // namespace clb::cli
