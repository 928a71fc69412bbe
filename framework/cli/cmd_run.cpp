// clbench run: trains every requested strategy on the same task sequence from the same initial
// model, for each seed, and prints the metric table and accuracy matrices.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>

#include <fmt/ranges.h>

#include "framework/atomic_file.h"
#include "framework/checkpoint.h"
#include "framework/cli/commands.h"
#include "framework/cli/flag_checks.h"
#include "framework/error.h"
#include "framework/harness.h"
#include "framework/report.h"

namespace clb::cli {

namespace {

struct RunOptions {
  std::string scenario = "permuted", scenario_il = "class", dataset = "fashion-mnist";
  int tasks = 5;
  std::string arch = "784-400-400-10";
  std::string strategies = "naive,ewc";
  // Adam at 1e-3 with lambda 100: on 5-task permuted Fashion-MNIST naive forgets (BWT about -30
  // points) and EWC keeps it (results/cpu.md as of b7136cc). Plain SGD is stable under the penalty only while
  // lr x lambda x max(F) < 2, which a fixed default cannot promise as F grows with every task.
  std::string lambda = "100";  // "100" or per strategy: "100,l2=0.01"
  float gamma = 1.0f;
  std::string fisher = "empirical";
  int64_t fisher_samples = 0;
  int fisher_draws = 1;
  std::string optimizer = "adam";
  float lr = 0.0f, momentum = 0.9f;  // lr 0: the optimizer's default (default_lr)
  int batch = 128, epochs = 1;
  int64_t train_per_task = 0, test_per_task = 0;
  double rotation_step = 0;
  uint64_t seed = 0;
  int seeds = 1;
  int lca_batches = 10;
  int threads = 0;
  std::string backend = "auto", out, save;
  // The replay memory of er, agem and ewc+er: 2,000 samples (~1.5 MiB of Fashion-MNIST as uint8),
  // the size the replay literature compares at; --memory-bytes alone sizes it by bytes instead.
  int64_t memory_samples = 2000, memory_bytes = 0;
  bool memory_samples_given = false;
  std::string memory_policy = "reservoir";
  std::string task_boundaries = "given", stream = "sharp";
  int64_t mixing_width = 2000;
  int recurring_tasks = 3;
};

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ','))
    if (!part.empty()) out.push_back(part);
  return out;
}


// "--lambda 100,l2=0.01": a bare number is every strategy's default, name=value overrides one.
std::map<std::string, float> parse_lambdas(const std::string& spec, const std::vector<std::string>& names) {
  std::map<std::string, float> out;
  float fallback = 100.0f;
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
      fallback = v;
    } else {
      if (std::find(names.begin(), names.end(), name) == names.end())
        fail("--lambda {}: '{}' is not one of the strategies run (--strategy)", spec, name);
      out[name] = v;
    }
  }
  for (const auto& n : names)
    if (!out.count(n)) out[n] = fallback;
  return out;
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

void run(const RunOptions& o) {
  const auto t_start = std::chrono::steady_clock::now();
  auto progress = [&](const std::string& msg) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    fmt::print(stderr, "[{:6.1f}s] {}\n", s, msg);
  };
  set_threads(o.threads);
  check_positive(o.tasks, "--tasks");
  check_positive(o.batch, "--batch");
  check_positive(o.epochs, "--epochs");
  check_positive(o.seeds, "--seeds");
  check_in_range(o.lca_batches, 0, 100000, "--lca-batches");
  check_in_range(o.fisher_draws, 1, kMaxFisherDraws, "--fisher-draws");
  if (!std::isfinite(o.rotation_step)) fail("--rotation-step {}: must be a finite number of degrees", o.rotation_step);
  check_non_negative(o.fisher_samples, "--fisher-samples");
  check_finite_non_negative(o.lr, "--lr");
  check_finite_non_negative(o.momentum, "--momentum");
  if (!(o.gamma > 0.0f && o.gamma <= 1.0f)) fail("--gamma {}: online EWC's decay must lie in (0, 1]", o.gamma);
  const MlpArch arch = MlpArch::parse(o.arch);
  const auto names = split_list(o.strategies);
  if (names.empty()) fail("--strategy: give at least one of naive, joint, l2, ewc, online-ewc, si, mas, er, agem, ewc+er");
  for (size_t i = 0; i < names.size(); ++i) {
    make_strategy(names[i], {}, 1);  // validates every name before hours of work
    if (std::find(names.begin(), names.begin() + i, names[i]) != names.begin() + i)
      fail("--strategy {}: '{}' is listed twice; list each strategy once (use --seeds for repeats)", o.strategies,
           names[i]);
  }
  const std::map<std::string, float> lambdas = parse_lambdas(o.lambda, names);
  auto backend = make_backend(o.backend);

  TrainConfig cfg;
  cfg.optimizer = parse_optimizer(o.optimizer, "--optimizer");
  cfg.lr = o.lr > 0 ? o.lr : default_lr(cfg.optimizer);
  cfg.momentum = o.momentum, cfg.batch = o.batch, cfg.epochs = o.epochs;
  cfg.lca_batches = o.lca_batches;
  cfg.detect_boundaries = o.task_boundaries == "detect";
  if (o.stream == "blurry") {
    if (o.mixing_width < 2)
      fail("--mixing-width {}: the samples over which neighbouring tasks mix must be at least 2", o.mixing_width);
    cfg.blurry_width = o.mixing_width;
  }
  cfg.memory.policy = parse_replay_policy(o.memory_policy, "--memory-policy");
  cfg.memory.max_bytes = o.memory_bytes;
  cfg.memory.max_samples = o.memory_bytes > 0 && !o.memory_samples_given ? 0 : o.memory_samples;
  if (o.memory_samples < 0 || o.memory_bytes < 0 || (cfg.memory.max_samples == 0 && cfg.memory.max_bytes == 0))
    fail("--memory-samples {} --memory-bytes {}: give the replay memory a positive size in samples or bytes",
         o.memory_samples, o.memory_bytes);
  cfg.fisher.estimator = parse_fisher_estimator(o.fisher, "--fisher");
  cfg.fisher.samples = o.fisher_samples;
  cfg.fisher.draws = o.fisher_draws;
  if (cfg.fisher.estimator == FisherEstimator::kBatch) cfg.fisher.batch = o.batch;  // Avalanche's minibatch

  ScenarioConfig sc;
  sc.kind = o.scenario, sc.il = o.scenario_il, sc.tasks = o.tasks;
  sc.train_per_task = o.train_per_task, sc.test_per_task = o.test_per_task, sc.rotation_step = o.rotation_step;
  sc.synthetic_dim = arch.input_dim(), sc.synthetic_classes = arch.num_outputs();
  sc.recurring_tasks = o.recurring_tasks;
  SourceData data;
  if (o.scenario != "synthetic" && o.scenario != "recurring") {
    progress(fmt::format("loading {}", o.dataset));
    data = load_source_data(o.dataset);
    const int classes = std::max(data.train->num_classes, data.test->num_classes);
    if (arch.input_dim() != data.train->dim)
      fail("--arch {}: input width {} does not match the {} features of {}; start the arch with {}", o.arch,
           arch.input_dim(), data.train->dim, o.dataset, data.train->dim);
    if (arch.num_outputs() < classes)
      fail("--arch {}: {} outputs cannot hold the {} classes (labels 0..{}) of {}; end the arch with {}", o.arch,
           arch.num_outputs(), classes, classes - 1, o.dataset, classes);
  }
  if (!o.save.empty()) {
    const auto parent = std::filesystem::path(o.save).parent_path();
    if (!parent.empty() && !std::filesystem::is_directory(parent))
      fail("--save {}: directory {} does not exist; create it first", o.save, parent.string());
  }
  if (!o.out.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.out, ec);
    if (ec) fail("--out {}: cannot create the directory: {}", o.out, ec.message());
  }

  std::vector<RunResult> runs;
  ReportContext rc;
  for (int k = 0; k < o.seeds; ++k) {
    const uint64_t seed = o.seed + uint64_t(k);
    sc.seed = seed;
    const Scenario scenario = make_scenario(sc, data);
    for (const auto& t : scenario.tasks)
      if (o.fisher_samples > int64_t(t.train_rows.size()))
        fail("--fisher-samples {}: task {} has only {} training samples; ask for at most that many (0 = all)",
             o.fisher_samples, t.id + 1, t.train_rows.size());
    const Mlp init(arch, seed);
    progress(fmt::format("seed {}: {} scenario ({}-IL), {} tasks, {} train / {} test samples in task 1, model {} "
                         "({} parameters), backend {}",
                         seed, scenario.kind, scenario.il, scenario.tasks.size(), scenario.tasks[0].train_rows.size(),
                         scenario.tasks[0].test_rows.size(), arch.str(), arch.num_params(), backend->name()));
    for (const auto& name : names) {
      StrategyParams sp;
      sp.gamma = o.gamma;
      auto strategy = make_strategy(name, sp, arch.num_params());
      TrainConfig strategy_cfg = cfg;
      strategy_cfg.lambda = lambdas.at(name);
      runs.push_back(run_strategy(*backend, scenario, init, *strategy, strategy_cfg, seed, progress));
      RunResult& r = runs.back();
      progress(fmt::format("{} seed {}: ACC {:.1f}%, train {:.0f} samples/s{}", name, seed, 100 * r.metrics.acc,
                           r.train_samples_per_s(), r.memory.empty() ? "" : "; replay memory: " + r.memory));
      if (cfg.detect_boundaries)
        progress(fmt::format("{} seed {}: task boundaries detected at batches [{}], true [{}]: {} of {} found, mean delay "
                             "{:.1f} batches, {} false alarm(s) ({:.2f} per 1000 batches), {} missed ({:.2f} per 1000 batches)",
                             name, seed, fmt::join(r.detected_boundaries, ", "), fmt::join(r.true_boundaries, ", "),
                             r.detection.found, r.true_boundaries.size(), r.detection.mean_delay, r.detection.false_alarms,
                             r.detection.false_alarms_per_1000, r.detection.missed, r.detection.missed_per_1000));
      if (cfg.detect_boundaries && !r.segment_identity.empty())
        progress(fmt::format("{} seed {}: task identity of each segment [{}], true [{}]: task-id accuracy {:.1f}%", name,
                             seed, fmt::join(r.segment_identity, ", "), fmt::join(r.segment_truth, ", "),
                             100 * r.task_id_accuracy));
      if (r.heads_picked > 0)
        progress(fmt::format("{} seed {}: task-IL without task labels: the head of each test set picked by recognising "
                             "its inputs: the right head {} of {} times a trained task was tested (tasks not yet trained have no head: "
                             "all classes compete)",
                             name, seed, r.heads_right, r.heads_picked));
      if (!o.save.empty() && k == 0) {
        // The final model, and its Fisher on the last task's training data (what EWC would consolidate).
        const std::string model_path = names.size() == 1 ? o.save : sibling(o.save, name);
        const std::string fisher_path = sibling(model_path, "fisher");
        std::map<std::string, std::string> meta{{"strategy", name}, {"seed", std::to_string(seed)},
                                                {"scenario", scenario.kind}};
        save_flat_params(model_path, arch, r.final_model.params, meta);
        FisherStats fs;
        FisherConfig fc = cfg.fisher;
        const int last = int(scenario.tasks.size()) - 1;
        auto F = fisher_on(*backend, scenario.tasks, r.final_model,
                           sample_refs(scenario.tasks[last], Split::kTrain, fc.samples), fc, &fs);
        meta["estimator"] = to_string(fc.estimator);
        meta["N"] = std::to_string(fs.samples);
        meta["task"] = std::to_string(last + 1);
        save_flat_params(fisher_path, arch, F, meta);
        progress(fmt::format("saved {} and {}", model_path, fisher_path));
      }
    }
  }

  rc.estimator = o.fisher;
  rc.fisher_samples = o.fisher_samples;
  fmt::print("## clbench run: {} ({}-IL), {} tasks, {}, {}, lr {}, batch {}, {} epoch(s), {} seed(s)\n\n",
             o.scenario, o.scenario == "split" ? o.scenario_il : "domain", o.tasks, arch.str(), o.optimizer, cfg.lr,
             o.batch, o.epochs, o.seeds);
  fmt::print("{}", markdown_summary(runs, rc));
  fmt::print("{}", markdown_costs(runs));
  fmt::print("{}", markdown_acc_matrices(runs));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  fmt::print("\nwall time {:.1f} s, peak RSS {:.0f} MiB\n", seconds, peak_rss_mib());

  if (!o.out.empty()) {
    nlohmann::json config = {{"scenario", o.scenario},
                             {"scenario_il", o.scenario == "split" ? o.scenario_il : "domain"},
                             {"dataset", o.scenario == "synthetic" || o.scenario == "recurring" ? "generated" : o.dataset},
                             {"tasks", o.tasks},
                             {"arch", arch.str()},
                             {"strategies", names},
                             {"lambda", lambdas},
                             {"gamma", o.gamma},
                             {"fisher", {{"estimator", o.fisher}, {"samples", o.fisher_samples}, {"draws", o.fisher_draws}}},
                             {"optimizer", o.optimizer},
                             {"lr", cfg.lr},
                             {"momentum", o.momentum},
                             {"batch", o.batch},
                             {"epochs", o.epochs},
                             {"train_per_task", o.train_per_task},
                             {"test_per_task", o.test_per_task},
                             {"seed", o.seed},
                             {"seeds", o.seeds},
                             {"lca_batches", o.lca_batches},
                             {"backend", backend->name()},
                             {"wall_seconds", seconds},
                             {"peak_rss_mib", peak_rss_mib()}};
    write_file_atomic((std::filesystem::path(o.out) / "results.json").string(), results_json(config, runs).dump(2));
    write_file_atomic((std::filesystem::path(o.out) / "results.csv").string(), results_csv(runs));
    progress(fmt::format("wrote {0}/results.json and {0}/results.csv", o.out));
  }
}

}  // namespace

void register_run(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* c = app.add_subcommand("run", "Train strategies on a task sequence and score them (ACC, BWT, FWT, ...)");
  c->option_defaults()->always_capture_default();
  c->add_option("--scenario", o->scenario,
                "Task sequence: permuted | split | rotated | synthetic | recurring (K generated tasks visited in turn)")
      ->check(CLI::IsMember({"permuted", "split", "rotated", "synthetic", "recurring"}));
  c->add_option("--recurring-tasks", o->recurring_tasks, "recurring: distinct tasks K (task t is task t mod K)");
  c->add_option("--scenario-il", o->scenario_il, "split only: task (logit masking per task) | class (one head)")
      ->check(CLI::IsMember({"task", "class"}));
  c->add_option("--dataset", o->dataset, "fashion-mnist (Debian's dataset-fashion-mnist) or an IDX directory");
  c->add_option("--tasks", o->tasks, "Number of tasks");
  c->add_option("--arch", o->arch, "MLP widths, input-hidden...-output");
  c->add_option("--strategy", o->strategies,
                "Comma-separated: naive, joint, l2, ewc, online-ewc, si (path integral), mas (output sensitivity), er "
                "(replay mixed into each batch), agem (gradient projected against the memory's), ewc+er");
  c->add_option("--lambda", o->lambda, "Penalty strength; penalty = lambda/2 sum F (theta-theta*)^2. One number for all, or per strategy: 100,l2=0.01");
  c->add_option("--gamma", o->gamma, "online-ewc: decay of the running Fisher, in (0, 1]");
  c->add_option("--fisher", o->fisher, "Fisher estimator: empirical | sampled | exact | batch (comparison only)")
      ->check(CLI::IsMember({"empirical", "sampled", "exact", "batch"}));
  c->add_option("--fisher-samples", o->fisher_samples, "Samples per task for the Fisher (0 = the whole training set)");
  c->add_option("--fisher-draws", o->fisher_draws, "sampled estimator: label draws per sample");
  c->add_option("--optimizer", o->optimizer, "sgd | momentum | adam")->check(CLI::IsMember({"sgd", "momentum", "adam"}));
  c->add_option("--lr", o->lr, "Learning rate (0 = the optimizer's default: adam 0.001, momentum 0.01, sgd 0.05)");
  c->add_option("--momentum", o->momentum, "momentum optimizer: coefficient");
  c->add_option("--batch", o->batch, "Minibatch size");
  c->add_option("--epochs", o->epochs, "Epochs per task");
  c->add_option("--train-per-task", o->train_per_task, "Training samples per task, a seeded random subset (0 = all)");
  c->add_option("--test-per-task", o->test_per_task, "Test samples per task (0 = all)");
  c->add_option("--rotation-step", o->rotation_step, "rotated: degrees between tasks (0 = 180/tasks)");
  c->add_option("--seed", o->seed, "First seed (data order, permutations, init)");
  c->add_option("--seeds", o->seeds, "Seeds to run (seed, seed+1, ...): the table shows mean ± std");
  c->add_option("--lca-batches", o->lca_batches, "LCA beta: accuracy on the current task after 0..beta minibatches");
  c->add_option("--memory-samples", o->memory_samples, "er, agem, ewc+er: replay memory size in samples")
      ->each([o](const std::string&) { o->memory_samples_given = true; });
  c->add_option("--memory-bytes", o->memory_bytes,
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
  c->add_option("--threads", o->threads, "CPU threads (0 = every core)");
  c->add_option("--backend", o->backend, "cpu | cuda | auto (CUDA when a GPU is usable, else cpu)")
      ->check(CLI::IsMember(backend_names()));
  c->add_option("--out", o->out, "Directory for results.json and results.csv");
  c->add_option("--save", o->save, "Write the final model of the first seed and its Fisher (FILE, FILE-stem.fisher.safetensors); with several strategies the name goes into the file names");
  c->callback([o] { run(*o); });
}

}  // namespace clb::cli
