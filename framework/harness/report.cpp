#include "framework/harness/report.h"

#include <cmath>
#include <map>

#include "framework/core/error.h"

#include <fmt/format.h>

namespace clb {

namespace {

// Strategies in first-seen order, each with its runs (one per seed).
std::vector<std::pair<std::string, std::vector<const RunResult*>>> by_strategy(const std::vector<RunResult>& runs) {
  std::vector<std::pair<std::string, std::vector<const RunResult*>>> groups;
  for (const auto& r : runs) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](auto& g) { return g.first == r.strategy; });
    if (it == groups.end()) it = groups.insert(groups.end(), {r.strategy, {}});
    it->second.push_back(&r);
  }
  return groups;
}

// "85.3" or "85.3 ± 0.4" in percentage points; "n/a" where undefined (one task).
template <typename Get>
std::string pct(const std::vector<const RunResult*>& rs, Get get) {
  std::vector<double> v;
  for (auto* r : rs) v.push_back(get(*r));
  if (std::isnan(v[0])) return "n/a";
  const MeanStd ms = mean_std(v);
  if (rs.size() == 1) return fmt::format("{:.1f}", 100 * ms.mean);
  return fmt::format("{:.1f} ± {:.1f}", 100 * ms.mean, 100 * ms.std);
}

template <typename Get>
double mean_of(const std::vector<const RunResult*>& rs, Get get) {
  double s = 0;
  for (auto* r : rs) s += get(*r) / double(rs.size());
  return s;
}

nlohmann::json numbers_or_null(const std::vector<double>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (double x : v) a.push_back(number_or_null(x));
  return a;
}

std::vector<double> numbers_from(const nlohmann::json& a) {  // null: NaN
  std::vector<double> v;
  for (const auto& x : a) v.push_back(number_or_nan(x));
  return v;
}

}  // namespace

std::string markdown_summary(const std::vector<RunResult>& runs, int64_t fisher_samples) {
  std::string s =
      "| strategy | ACC % | BWT % | FWT % | forgetting % | LCA % | train samples/s | Fisher samples/s | Fisher "
      "| tr(F) | λ |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& [name, rs] : by_strategy(runs)) {
    const bool has_fisher = mean_of(rs, [](auto& r) { return double(r.fisher_samples); }) > 0;
    const bool has_penalty = mean_of(rs, [](auto& r) { return r.penalty_trace; }) > 0;
    const std::string n = fisher_samples > 0 ? std::to_string(fisher_samples) : "all";
    s += fmt::format("| {} | {} | {} | {} | {} | {} | {:.0f} | {} | {} | {} | {} |\n", name,
                     pct(rs, [](auto& r) { return r.metrics.acc; }), pct(rs, [](auto& r) { return r.metrics.bwt; }),
                     pct(rs, [](auto& r) { return r.metrics.fwt; }),
                     pct(rs, [](auto& r) { return r.metrics.forgetting; }),
                     pct(rs, [](auto& r) { return r.metrics.lca; }),
                     mean_of(rs, [](auto& r) { return r.train_samples_per_s(); }),
                     has_fisher ? fmt::format("{:.0f}", mean_of(rs, [](auto& r) { return r.fisher_samples_per_s(); }))
                                : "-",
                     has_fisher ? fmt::format("{}, N={}", rs[0]->importance, n) : "-",
                     has_penalty ? fmt::format("{:.4g}", mean_of(rs, [](auto& r) { return r.penalty_trace; })) : "-",
                     has_penalty ? fmt::format("{:g}", rs[0]->lambda) : "-");
  }
  return s;
}

std::string markdown_costs(const std::vector<RunResult>& runs) {
  // Memory held at the end of the run, by component (run_result.h: RunResult::Held), in MiB.
  std::string s =
      "\n| strategy | train s | Fisher s | eval s | eval samples/s | held MiB: data | model | optimizer | strategy | "
      "replay |\n|---|---|---|---|---|---|---|---|---|---|\n";
  auto mib = [](const std::vector<const RunResult*>& rs, int64_t RunResult::Held::*part) {
    return mean_of(rs, [&](auto& r) { return double(r.held.*part); }) / (1024.0 * 1024.0);
  };
  for (const auto& [name, rs] : by_strategy(runs))
    s += fmt::format("| {} | {:.1f} | {:.1f} | {:.1f} | {:.0f} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {:.2f} |\n", name,
                     mean_of(rs, [](auto& r) { return r.train_seconds; }),
                     mean_of(rs, [](auto& r) { return r.fisher_seconds; }),
                     mean_of(rs, [](auto& r) { return r.eval_seconds; }),
                     mean_of(rs, [](auto& r) { return r.eval_samples_per_s(); }), mib(rs, &RunResult::Held::data),
                     mib(rs, &RunResult::Held::model), mib(rs, &RunResult::Held::optimizer),
                     mib(rs, &RunResult::Held::strategy), mib(rs, &RunResult::Held::replay));
  return s + markdown_kept(runs);
}

std::string markdown_kept(const std::vector<RunResult>& runs) {
  std::string kept;
  for (const auto& [name, rs] : by_strategy(runs))
    if (!rs.back()->memory.empty()) kept += fmt::format("- {}: {}\n", name, rs.back()->memory);
  return kept.empty() ? "" : "\nState kept at the end of the run (the last seed's):\n" + kept;
}

std::string markdown_acc_matrices(const std::vector<RunResult>& runs) {
  std::string s;
  for (const auto& [name, rs] : by_strategy(runs)) {
    const size_t T = rs[0]->acc.size();
    s += fmt::format("\n{}: test accuracy % on task j (columns) after training task i (rows){}\n\n| after \\ on |",
                     name, rs.size() > 1 ? fmt::format(", mean of {} seeds", rs.size()) : "");
    for (size_t j = 0; j < T; ++j) s += fmt::format(" {} |", j + 1);
    s += "\n|---|";
    for (size_t j = 0; j < T; ++j) s += "---|";
    s += "\n| init |";
    for (size_t j = 0; j < T; ++j) s += fmt::format(" {:.1f} |", 100 * mean_of(rs, [&](auto& r) { return r.init_acc[j]; }));
    for (size_t i = 0; i < T; ++i) {
      s += fmt::format("\n| {} |", i + 1);
      for (size_t j = 0; j < T; ++j) s += fmt::format(" {:.1f} |", 100 * mean_of(rs, [&](auto& r) { return r.acc[i][j]; }));
    }
    s += "\n";
  }
  return s;
}

nlohmann::json run_json(const RunResult& r) {
  nlohmann::json run;
  run["strategy"] = r.strategy;
  run["seed"] = r.seed;
  run["acc_matrix"] = r.acc;
  run["init_acc"] = r.init_acc;
  run["lca_curves"] = r.lca_curves;
  run["init_test_loss"] = numbers_or_null(r.init_test_loss);
  run["test_loss"] = nlohmann::json::array();
  for (const auto& row : r.test_loss) run["test_loss"].push_back(numbers_or_null(row));
  run["train_loss"] = {{"points_per_task_at_most", LossCurve::kPointsPerTask},
                       {"steps", r.train_loss.steps},
                       {"task_start", r.train_loss.task_start},
                       {"step", r.train_loss.step},
                       {"loss", numbers_or_null(r.train_loss.loss)}};
  if (!r.class_order.empty()) run["class_order"] = r.class_order;
  run["metrics"] = {{"acc", number_or_null(r.metrics.acc)},
                    {"bwt", number_or_null(r.metrics.bwt)},
                    {"fwt", number_or_null(r.metrics.fwt)},
                    {"forgetting", number_or_null(r.metrics.forgetting)},
                    {"lca", number_or_null(r.metrics.lca)}};
  run["throughput"] = {{"train_samples_per_s", r.train_samples_per_s()},
                       {"fisher_samples_per_s", r.fisher_samples_per_s()},
                       {"eval_samples_per_s", r.eval_samples_per_s()}};
  run["seconds"] = {{"train", r.train_seconds}, {"fisher", r.fisher_seconds}, {"eval", r.eval_seconds}};
  run["samples"] = {{"train", r.train_samples}, {"fisher", r.fisher_samples}, {"eval", r.eval_samples}};
  run["lambda"] = r.lambda;
  run["importance"] = r.importance;
  run["penalty_trace"] = r.penalty_trace;
  run["strategy_bytes"] = r.strategy_bytes;
  run["held_bytes"] = {{"data", r.held.data},
                       {"model", r.held.model},
                       {"optimizer", r.held.optimizer},
                       {"strategy", r.held.strategy},
                       {"replay", r.held.replay}};
  if (!r.memory.empty()) run["replay_memory"] = r.memory;
  const DetectionReport& d = r.detection;
  if (!d.true_boundaries.empty() || !d.detected_boundaries.empty() || !d.segment_truth.empty() || d.heads_picked > 0)
    run["boundaries"] = {{"true", d.true_boundaries},
                         {"detected", d.detected_boundaries},
                         {"found", d.scores.found},
                         {"missed", d.scores.missed},
                         {"false_alarms", d.scores.false_alarms},
                         {"false_alarms_per_1000_batches", d.scores.false_alarms_per_1000},
                         {"missed_per_1000_batches", d.scores.missed_per_1000},
                         {"mean_delay_batches", d.scores.mean_delay},
                         {"segment_true_task", d.segment_truth},
                         {"segment_identity", d.segment_identity},
                         {"task_id_accuracy", d.task_id_accuracy},
                         {"heads_picked", d.heads_picked},
                         {"heads_right", d.heads_right}};
  return run;
}

RunResult run_from_json(const nlohmann::json& run, const std::string& source, int tasks, int lca_points) {
  RunResult r;
  try {
    r.strategy = run.at("strategy").get<std::string>();
    r.seed = run.at("seed").get<uint64_t>();
    r.acc = run.at("acc_matrix").get<Matrix>();
    r.init_acc = run.at("init_acc").get<std::vector<double>>();
    r.lca_curves = run.at("lca_curves").get<Matrix>();
    // Losses and the class order: absent in records written before clbench kept them.
    if (run.contains("test_loss")) {
      r.init_test_loss = numbers_from(run.at("init_test_loss"));
      for (const auto& row : run["test_loss"]) r.test_loss.push_back(numbers_from(row));
    }
    if (run.contains("train_loss")) {
      const auto& c = run["train_loss"];
      r.train_loss.steps = c.at("steps");
      r.train_loss.task_start = c.at("task_start").get<std::vector<int64_t>>();
      r.train_loss.step = c.at("step").get<std::vector<int64_t>>();
      r.train_loss.loss = numbers_from(c.at("loss"));
    }
    r.class_order = run.value("class_order", std::vector<int>());
    const auto& m = run.at("metrics");
    r.metrics = {number_or_nan(m.at("acc")), number_or_nan(m.at("bwt")), number_or_nan(m.at("fwt")),
                 number_or_nan(m.at("forgetting")), number_or_nan(m.at("lca"))};
    const auto& sec = run.at("seconds");
    r.train_seconds = sec.at("train"), r.fisher_seconds = sec.at("fisher"), r.eval_seconds = sec.at("eval");
    const auto& n = run.at("samples");
    r.train_samples = n.at("train"), r.fisher_samples = n.at("fisher"), r.eval_samples = n.at("eval");
    r.lambda = run.at("lambda").get<float>();
    r.importance = run.at("importance").get<std::string>();
    r.penalty_trace = run.at("penalty_trace");
    r.strategy_bytes = run.at("strategy_bytes");
    if (run.contains("held_bytes")) {  // absent in records written before clbench kept it
      const auto& h = run["held_bytes"];
      r.held = {h.at("data"), h.at("model"), h.at("optimizer"), h.at("strategy"), h.at("replay")};
    }
    r.memory = run.value("replay_memory", std::string());
    if (run.contains("boundaries")) {
      const auto& b = run["boundaries"];
      DetectionReport& d = r.detection;
      d.true_boundaries = b.at("true").get<std::vector<int64_t>>();
      d.detected_boundaries = b.at("detected").get<std::vector<int64_t>>();
      d.scores.found = b.at("found"), d.scores.missed = b.at("missed"), d.scores.false_alarms = b.at("false_alarms");
      d.scores.false_alarms_per_1000 = b.at("false_alarms_per_1000_batches");
      d.scores.missed_per_1000 = b.at("missed_per_1000_batches");
      d.scores.mean_delay = b.at("mean_delay_batches");
      d.segment_truth = b.at("segment_true_task").get<std::vector<int>>();
      d.segment_identity = b.at("segment_identity").get<std::vector<int>>();
      d.task_id_accuracy = b.at("task_id_accuracy"), d.heads_picked = b.at("heads_picked");
      d.heads_right = b.at("heads_right");
    }
  } catch (const nlohmann::json::exception& e) {
    fail("{}: a run's record is incomplete or ill-typed ({}); the file is damaged or from another clbench version",
         source, e.what());
  }
  bool fits = int(r.acc.size()) == tasks && int(r.init_acc.size()) == tasks && int(r.lca_curves.size()) == tasks;
  // A checkpoint's rows of the tasks not yet done are empty (task_loop.cpp: start_result).
  for (const auto& row : r.acc) fits = fits && (row.empty() || int(row.size()) == tasks);
  for (const auto& curve : r.lca_curves) fits = fits && int(curve.size()) <= lca_points;
  if (!r.test_loss.empty()) {
    fits = fits && int(r.test_loss.size()) == tasks && int(r.init_test_loss.size()) == tasks;
    for (const auto& row : r.test_loss) fits = fits && (row.empty() || int(row.size()) == tasks);
  }
  const LossCurve& c = r.train_loss;
  fits = fits && c.step.size() == c.loss.size() && int(c.task_start.size()) <= tasks;
  for (size_t k = 0; k < c.step.size(); ++k) fits = fits && c.step[k] >= 1 && c.step[k] <= c.steps;
  if (!fits)
    fail("{}: the record of {} seed {} is not of a run of {} tasks with {} LCA points (or its losses do not fit); the "
         "file is damaged or of another run",
         source, r.strategy, r.seed, tasks, lca_points);
  return r;
}

nlohmann::json results_json(const nlohmann::json& config, const std::vector<RunResult>& runs) {
  nlohmann::json j;
  j["config"] = config;
  j["runs"] = nlohmann::json::array();
  for (const auto& r : runs) j["runs"].push_back(run_json(r));
  return j;
}

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

double number_or_nan(const nlohmann::json& v) { return v.is_null() ? std::nan("") : v.get<double>(); }

std::string csv_field(const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string q = "\"";
  for (char c : v) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

namespace {

// The config block as (column, value) pairs, nested objects as dotted names: every setting of the
// run, its provenance too. Left out: the strategies and lambdas (each row has its own) and the
// timing, which a reader of one row's settings does not want.
void flatten_config(const nlohmann::json& j, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& out) {
  for (const auto& [key, v] : j.items()) {
    const std::string name = prefix + key;
    if (name == "config.strategies" || name == "config.lambda" || name == "config.wall_seconds" ||
        name == "config.peak_rss_mib")
      continue;
    if (v.is_object()) flatten_config(v, name + ".", out);
    else out.emplace_back(name, v.is_string() ? v.get<std::string>() : v.dump());
  }
}

}  // namespace

std::string results_csv(const nlohmann::json& config, const std::vector<RunResult>& runs) {
  std::vector<std::pair<std::string, std::string>> settings;
  if (config.is_object()) flatten_config(config, "config.", settings);
  std::string head = "strategy,seed,lambda,acc,bwt,fwt,forgetting,lca,train_samples_per_s,fisher_samples_per_s,"
                     "eval_samples_per_s,penalty_trace,strategy_bytes";
  std::string tail;
  for (const auto& [name, value] : settings) {
    head.append(",").append(name);
    tail.append(",").append(csv_field(value));
  }
  auto num = [](double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : std::string(); };
  std::string s = head + "\n";
  for (const auto& r : runs)
    s += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{}{}\n", csv_field(r.strategy), r.seed, num(r.lambda),
                     num(r.metrics.acc), num(r.metrics.bwt), num(r.metrics.fwt), num(r.metrics.forgetting),
                     num(r.metrics.lca), num(r.train_samples_per_s()), num(r.fisher_samples_per_s()),
                     num(r.eval_samples_per_s()), num(r.penalty_trace), r.strategy_bytes, tail);
  return s;
}

}  // namespace clb
