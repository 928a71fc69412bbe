#include "framework/cli/run_page.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "framework/cli/run_output.h"
#include "framework/core/atomic_file.h"
#include "framework/core/bounded_json.h"
#include "framework/core/error.h"
#include "framework/harness/report.h"
#include "framework/harness/run_figures.h"

namespace clb::cli {

namespace fs = std::filesystem;

namespace {

// A config value as the page shows it: floats stored from float32 (lr 0.0010000000474974513) in 4
// significant digits, "?" for a setting the file does not have (an older clbench).
std::string text(const nlohmann::json& config, const std::string& key) {
  if (!config.is_object() || !config.contains(key)) return "?";
  const nlohmann::json& v = config[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return fmt::format("{:.4g}", v.get<double>());
  if (v.is_array()) {
    std::string s;
    for (const auto& e : v) s += (s.empty() ? "" : ", ") + (e.is_string() ? e.get<std::string>() : e.dump());
    return s;
  }
  return v.dump();
}

// A table cell: a '|' or a line break from the file would end the cell or the table.
std::string cell(std::string s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : c == '\n' || c == '\r' ? std::string(" ") : std::string(1, c);
  return out;
}

std::string strategies_text(const nlohmann::json& config) {
  std::string s;
  if (!config.contains("strategies") || !config["strategies"].is_array()) return "?";
  for (const auto& e : config["strategies"]) {
    if (!e.is_string()) continue;
    const std::string name = e.get<std::string>();
    s += (s.empty() ? "" : ", ") + name;
    const nlohmann::json lambda = config.value("lambda", nlohmann::json::object());
    if (lambda.is_object() && lambda.contains(name) && lambda[name].is_number() && lambda[name].get<double>() != 0)
      s += fmt::format(" (λ {:g})", lambda[name].get<double>());
  }
  return s;
}

std::string settings_table(const std::string& dir, const nlohmann::json& manifest, const nlohmann::json& c,
                           const std::string& command) {
  std::string md = "| | |\n|---|---|\n";
  auto row = [&](const std::string& what, const std::string& value) { md += fmt::format("| {} | {} |\n", what, cell(value)); };
  row("source", fmt::format("`{}` (results.json)", dir));
  if (manifest.is_object() && manifest.contains("status")) row("status", text(manifest, "status"));
  row("scenario", scenario_text(c));
  row("model", model_text(c));
  row("strategies", strategies_text(c));
  row("seeds", fmt::format("{} from seed {}", text(c, "seeds"), text(c, "seed")));
  row("stream", fmt::format("{}, task boundaries {}, backend {}", text(c, "stream"), text(c, "task_boundaries"),
                            text(c, "backend")));
  if (c.contains("provenance") && c["provenance"].is_object()) {
    const nlohmann::json& p = c["provenance"];
    row("provenance", fmt::format("commit {}, {}, {}, started {}", text(p, "commit"), text(p, "machine"),
                                  text(p, "build"), text(p, "started")));
  }
  if (!command.empty()) row("report", "`" + command + "`");
  return md + "\n";
}

}  // namespace

std::string scenario_text(const nlohmann::json& c) {
  std::string s = fmt::format("{} ({}-IL), {} tasks, data {}, {} train / {} test samples per task (0: all)",
                              text(c, "scenario"), text(c, "scenario_il"), text(c, "tasks"), text(c, "dataset"),
                              text(c, "train_per_task"), text(c, "test_per_task"));
  if (text(c, "scenario") == "split")
    s += fmt::format(", {} classes per task in {} order", text(c, "classes_per_task"), text(c, "class_order"));
  if (text(c, "scenario") == "task-column") s += ", tasks by the column " + text(c, "task_column");
  return s;
}

std::string model_text(const nlohmann::json& c) {
  return fmt::format("MLP {}, {} lr {}, batch {}, {} epoch(s) per task", text(c, "arch"), text(c, "optimizer"),
                     text(c, "lr"), text(c, "batch"), text(c, "epochs"));
}

std::vector<RunResult> runs_of(const std::vector<RunResult>& runs, const std::vector<std::string>& strategies,
                               const std::string& source) {
  if (strategies.empty()) return runs;
  std::vector<RunResult> kept;
  for (const std::string& name : strategies) {
    const size_t before = kept.size();
    for (const RunResult& r : runs)
      if (r.strategy == name) kept.push_back(r);
    if (kept.size() == before) {
      std::vector<std::string> present;
      for (const RunResult& r : runs)
        if (std::find(present.begin(), present.end(), r.strategy) == present.end()) present.push_back(r.strategy);
      fail("--strategies {}: {} holds no run of {}; its runs are of {}", fmt::join(strategies, ","), source, name,
           fmt::join(present, ", "));
    }
  }
  return kept;
}

RunsFile read_runs_file(const std::string& path) {
  if (!fs::exists(path)) fail("{}: not found; the run finished no strategy yet, or give the directory clbench run --out wrote", path);
  const nlohmann::json j = parse_json_bounded(read_file(path), path, {.max_values = size_t(1) << 24});
  RunsFile f;
  int tasks = 0, lca_batches = 0;
  bool fits = false;
  try {
    f.config = j.at("config");
    tasks = f.config.at("tasks").get<int>();
    lca_batches = f.config.at("lca_batches").get<int>();
    fits = j.at("runs").is_array() && tasks > 0 && lca_batches >= 0;
  } catch (const nlohmann::json::exception&) {  // missing or ill-typed: fits stays false
  }
  if (!fits)
    fail("{}: no config with tasks and lca_batches, or no runs; the file is damaged or not a clbench run's results", path);
  for (const auto& run : j["runs"]) f.runs.push_back(run_from_json(run, path, tasks, lca_batches + 1));
  return f;
}

bool is_run_directory(const std::string& dir) {
  return fs::exists(fs::path(dir) / "manifest.json") && RunOutput::read_manifest(dir).is_object();
}

std::string render_run_page(const std::string& dir, const RunPageOptions& o, PagePlots& plots) {
  const nlohmann::json manifest = RunOutput::read_manifest(dir);
  const RunsFile f = read_runs_file((fs::path(dir) / "results.json").string());
  std::string md = fmt::format("# {}\n\n", o.title.empty() ? "Run: " + dir : o.title);
  md += "Generated by `clbench report` from the run's results.json; nothing here is typed by hand.\n\n";
  md += settings_table(dir, manifest, f.config, o.command);
  if (f.runs.empty()) return md + "No run has finished yet: nothing to show.\n";
  int64_t fisher_samples = 0;
  if (f.config.contains("fisher") && f.config["fisher"].is_object())
    fisher_samples = f.config["fisher"].value("samples", int64_t(0));
  md += "## Summary\n\nMean ± standard deviation over seeds.\n\n" + markdown_summary(f.runs, fisher_samples) + "\n";
  const RunFigures figs = run_figures(runs_of(f.runs, o.strategies, dir));
  md += "## Figures\n\n";
  md += plots.add_all(figs.figures);
  for (const std::string& n : figs.notes) md += n + "\n\n";
  if (!plots.note().empty()) md += plots.note() + "\n\n";
  md += "## Accuracy matrices\n" + markdown_acc_matrices(f.runs);
  return md;
}

}  // namespace clb::cli
