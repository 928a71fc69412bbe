#include "framework/cli/sweep_page.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "framework/cli/run_page.h"
#include "framework/cli/sweep_summary.h"
#include "framework/core/atomic_file.h"
#include "framework/core/bounded_json.h"
#include "framework/core/error.h"
#include "framework/harness/report.h"
#include "framework/harness/plot_palette.h"
#include "framework/harness/run_figures.h"

namespace clb::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {


// "lambda=10, lr=0.001", or "defaults" for the empty point (sweep_cells.h's point_text on the JSON).
std::string point_text(const json& point) {
  std::string s;
  for (const auto& [k, v] : point.items()) s += fmt::format("{}{}={}", s.empty() ? "" : ", ", k, v.get<std::string>());
  return s.empty() ? "defaults" : s;
}

// A grid value as a number; false for a value that is not one (an optimizer's name).
bool as_number(const std::string& text, double* out) {
  char* end = nullptr;
  *out = std::strtod(text.c_str(), &end);
  return !text.empty() && end == text.c_str() + text.size() && std::isfinite(*out);
}

std::string table_markdown(const json& sweep) {
  std::string md = table_header();
  for (const json& row : sweep.at("table"))
    md += table_row(row.at("strategy").get<std::string>(), point_text(row.at("chosen")),
                    row.at("validation_acc").get<double>(), interval_from_json(row.at("acc")),
                    interval_from_json(row.at("bwt")), interval_from_json(row.at("forgetting")),
                    interval_from_json(row.at("delta_acc_vs_naive")));
  return md + "\n";
}

// Validation ACC against one hyper-parameter, a line per strategy whose grid has it (its other
// hyper-parameters held at their chosen values), strategies without a grid as flat dashed lines.
void tradeoff_figures(const json& sweep, const std::string& prefix, std::vector<PageFigure>& figures,
                      std::vector<std::string>& notes) {
  std::set<std::string> axes;
  for (const json& c : sweep.at("selection_cells"))
    for (const auto& [k, v] : c.at("point").items()) axes.insert(k);
  for (const std::string& axis : axes) {
    Plot p{.name = prefix + "tradeoff_" + file_stem(axis),
           .title = fmt::format("Validation ACC against {}, per strategy", axis),
           .xlabel = axis,
           .ylabel = "mean validation ACC (%)"};
    p.y_axis = Axis::kLinear;
    p.y_tic_format = "";
    p.key = KeyPlace::kOutsideRight;
    p.highlight_title = "chosen";
    bool numeric = true;
    double lo = INFINITY, hi = -INFINITY;
    std::vector<std::pair<std::string, double>> flat;  // strategies without a grid: their validation ACC
    for (const json& choice : sweep.at("choices")) {
      const std::string s = choice.at("strategy");
      const json& chosen = choice.at("chosen");
      if (chosen.empty()) {
        flat.push_back({s, 100 * choice.at("validation_acc").get<double>()});
        continue;
      }
      if (!chosen.contains(axis)) continue;
      std::map<double, std::vector<double>> accs;  // grid value -> ACC per selection seed
      for (const json& c : sweep.at("selection_cells")) {
        const json& point = c.at("point");
        if (c.at("strategy") != s || !point.contains(axis)) continue;
        bool slice = true;  // the other hyper-parameters at their chosen values
        for (const auto& [k, v] : point.items()) slice = slice && (k == axis || (chosen.contains(k) && chosen[k] == v));
        double x = 0;
        if (!as_number(point[axis].get<std::string>(), &x)) numeric = false;
        if (slice && numeric) accs[x].push_back(c.at("acc").get<double>());
      }
      PlotSeries line{.title = s, .rgb = strategy_color(s)};
      for (const auto& [x, v] : accs) {
        double sum = 0;
        for (double a : v) sum += a;
        line.points.push_back({x, 100 * sum / v.size()});
        lo = std::min(lo, x), hi = std::max(hi, x);
      }
      double cx = 0;
      if (numeric && as_number(chosen[axis].get<std::string>(), &cx))
        for (auto [x, y] : line.points)
          if (x == cx) p.highlights.push_back({x, y, strategy_color(s)});
      if (!line.points.empty()) p.series.push_back(std::move(line));
    }
    if (!numeric) {
      notes.push_back(fmt::format("ACC against {} is not drawn: its grid values are not all numbers.", axis));
      continue;
    }
    if (p.series.empty()) continue;
    // Log scale where the grid spans decades (λ from 1 to 10⁴), else linear.
    p.x_axis = lo > 0 && hi / lo > 10 ? Axis::kLog : Axis::kLinear;
    for (const auto& [s, acc] : flat)
      p.series.push_back({.title = s + " (no grid)", .points = {{lo, acc}, {hi, acc}}, .rgb = strategy_color(s),
                          .dashed = true, .points_marked = false});
    figures.push_back(
        {std::move(p),
         fmt::format("The stability-plasticity trade-off: mean validation ACC over the selection seeds at each value of "
                     "{} ({} axis), one line per strategy whose grid has it, its other settings at their chosen values; "
                     "the large dot is the chosen setting; dashed: strategies without a grid.",
                     axis, lo > 0 && hi / lo > 10 ? "log" : "linear")});
  }
}

BarChart interval_bars(const json& sweep, const std::string& name, const std::string& metric, const std::string& title,
                       const std::string& ylabel) {
  BarChart b{.name = name, .title = title, .ylabel = ylabel};
  for (const json& row : sweep.at("table")) {
    const std::string s = row.at("strategy");
    const json& i = row.at(metric);
    b.bars.push_back({s, 100 * number_or_nan(i.at("mean")), 100 * number_or_nan(i.at("ci95_half_width")), strategy_color(s)});
  }
  return b;
}

// " (lambda=10 is the low end of its grid: ...)" when a chosen numeric value is the smallest or
// largest of its candidates: the best value may lie beyond the grid, so the table may understate
// the strategy. "" otherwise.
std::string grid_edge_warning(const json& choice) {
  std::string warning;
  for (const auto& [name, value] : choice.at("chosen").items()) {
    double chosen = 0, lo = INFINITY, hi = -INFINITY;
    if (!as_number(value.get<std::string>(), &chosen)) continue;
    int values = 0;
    for (const json& cand : choice.at("candidates")) {
      double v = 0;
      if (!cand.at("point").contains(name) || !as_number(cand["point"][name].get<std::string>(), &v)) continue;
      lo = std::min(lo, v), hi = std::max(hi, v), ++values;
    }
    if (values < 2 || (chosen != lo && chosen != hi)) continue;
    warning += fmt::format("{}**{}={} is the {} end of its grid: a better value may lie {} it**", warning.empty() ? " — " : "; ",
                           name, value.get<std::string>(), chosen == lo ? "low" : "high", chosen == lo ? "below" : "above");
  }
  return warning;
}

struct Section {
  std::string markdown;
  json json_block;
};

// Where and when the final cells ran, from their config blocks' provenance: each commit, machine
// and build once, the first and last start time.
std::string provenance_text(const std::vector<json>& configs) {
  std::vector<std::string> commits, machines, builds;
  std::string first, last;
  auto add = [](std::vector<std::string>& seen, const json& p, const char* key) {
    const std::string v = p.value(key, std::string("?"));
    if (std::find(seen.begin(), seen.end(), v) == seen.end()) seen.push_back(v);
  };
  for (const json& c : configs) {
    if (!c.contains("provenance") || !c["provenance"].is_object()) continue;
    const json& p = c["provenance"];
    add(commits, p, "commit"), add(machines, p, "machine"), add(builds, p, "build");
    const std::string started = p.value("started", std::string());
    if (!started.empty() && (first.empty() || started < first)) first = started;
    if (started > last) last = started;
  }
  if (commits.empty()) return "not recorded (cells from a clbench without provenance)";
  return fmt::format("commit {}; {}; {}; final cells started {} to {}", fmt::join(commits, ", "),
                     fmt::join(machines, ", "), fmt::join(builds, ", "), first, last);
}

Section sweep_section(const std::string& dir, int index, bool several, const std::vector<std::string>& strategies,
                      PagePlots& plots) {
  const std::string path = (fs::path(dir) / "sweep.json").string();
  const json sweep = parse_json_bounded(read_file(path), path, {.max_values = size_t(1) << 24});
  if (!sweep.is_object() || sweep.value("format", json()) != "clbench-sweep")
    fail("{}: not a sweep.json clbench sweep wrote (its format is not clbench-sweep); give a clbench sweep --out directory",
         path);
  const std::string prefix = fmt::format("sweep{}_", index + 1);
  // The final cells' runs, where their directories are still there.
  std::vector<RunResult> runs;
  std::vector<json> configs;  // the final cells' config blocks
  std::string scenario;
  int missing = 0, cells = 0;
  std::string first_missing;
  try {
    for (const json& c : sweep.at("final_cells")) {
      ++cells;
      const fs::path results = fs::path(dir) / c.at("results").get<std::string>();
      if (!fs::exists(results)) {
        if (missing++ == 0) first_missing = c.at("results").get<std::string>();
        continue;
      }
      RunsFile f = read_runs_file(results.string());
      if (scenario.empty()) scenario = f.config.value("scenario", std::string());
      configs.push_back(f.config);
      for (RunResult& r : f.runs) runs.push_back(std::move(r));
    }
    const std::string config = sweep.at("config");
    const json& protocol = sweep.at("protocol");
    Section s;
    std::string& md = s.markdown;
    md += fmt::format("{} {}{}\n\n", several ? "##" : "## Sweep:", config, scenario.empty() ? "" : " (" + scenario + ")");
    md += fmt::format("Source: `{}`. Each strategy's settings were chosen by mean ACC on a validation split ({:.0f}% of "
                      "each task's training data) over selection seeds {}; the chosen settings then ran on the test "
                      "sets with final seeds {}. Intervals: 95% Student-t over the final seeds; Δ ACC paired by seed.\n\n",
                      dir, 100 * protocol.at("validation").get<double>(),
                      fmt::join(protocol.at("selection_seeds").get<std::vector<uint64_t>>(), ", "),
                      fmt::join(protocol.at("final_seeds").get<std::vector<uint64_t>>(), ", "));
    if (!configs.empty()) {
      md += "| | |\n|---|---|\n";
      md += fmt::format("| scenario | {} |\n| model | {} |\n| where and when | {} |\n\n", scenario_text(configs[0]),
                        model_text(configs[0]), provenance_text(configs));
    }
    md += table_markdown(sweep);
    for (const json& c : sweep.at("choices"))
      md += fmt::format("- {}: {}{}\n", c.at("strategy").get<std::string>(), c.at("why").get<std::string>(),
                        grid_edge_warning(c));
    md += "\n";
    if (const std::string kept = markdown_kept(runs); !kept.empty()) md += kept.substr(1) + "\n";
    std::vector<PageFigure> figures;
    std::vector<std::string> notes;
    tradeoff_figures(sweep, prefix, figures, notes);
    figures.push_back({interval_bars(sweep, prefix + "acc_bars", "acc", "Final ACC per strategy, 95% intervals", "ACC (%)"),
                       "Final ACC on the test sets, mean over the final seeds, error bars the 95% t-interval (none with "
                       "one seed)."});
    figures.push_back({interval_bars(sweep, prefix + "forgetting_bars", "forgetting",
                                     "Final forgetting per strategy, 95% intervals", "forgetting (%)"),
                       "Forgetting (mean drop from each task's best accuracy to its last), mean over the final seeds, "
                       "error bars the 95% t-interval."});
    const RunFigures final_figs = run_figures(runs_of(runs, strategies, dir), prefix + "final_", " (final runs)");
    for (const PageFigure& f : final_figs.figures) figures.push_back(f);
    md += plots.add_all(figures);
    for (const std::string& n : notes) md += n + "\n\n";
    if (missing > 0)
      md += fmt::format("{} of the {} final cells' results are not there (first: {}; cells/ deleted?): the loss and "
                        "per-task figures {}.\n\n",
                        missing, cells, first_missing,
                        runs.empty() ? "are left out" : "show the remaining cells only");
    if (!runs.empty())
      for (const std::string& n : final_figs.notes) md += n + "\n\n";
    s.json_block = {{"source", dir},
                    {"sweep_json", path},
                    {"config", config},
                    {"scenario", scenario},
                    {"protocol", protocol},
                    {"choices", sweep.at("choices")},
                    {"table", sweep.at("table")},
                    {"final_cells_found", cells - missing},
                    {"final_cells", cells}};
    return s;
  } catch (const json::exception& e) {
    fail("{}: a field is missing or ill-typed ({}); the file is damaged or from another clbench version", path, e.what());
  }
}

}  // namespace

bool is_sweep_directory(const std::string& dir) { return fs::exists(fs::path(dir) / "sweep.json"); }

// Several sweeps: one table of every strategy's final ACC (and its chosen setting) per sweep, the
// sweeps named by their config files' stems, strategies in first-seen order.
std::string summary_markdown(const json& sweeps) {
  std::vector<std::string> strategies;
  for (const json& sw : sweeps)
    for (const json& row : sw.at("table")) {
      const std::string name = row.at("strategy");
      if (std::find(strategies.begin(), strategies.end(), name) == strategies.end()) strategies.push_back(name);
    }
  std::string md = "Final ACC % on the test sets, mean ± the 95% t-interval over the final seeds, each strategy at its "
                   "setting chosen on validation (in brackets; the sections below say why):\n\n| strategy |";
  for (const json& sw : sweeps) md += " " + fs::path(sw.at("config").get<std::string>()).stem().string() + " |";
  md += "\n|---|";
  for (size_t i = 0; i < sweeps.size(); ++i) md += "---|";
  md += "\n";
  for (const std::string& name : strategies) {
    md += "| " + name + " |";
    for (const json& sw : sweeps) {
      std::string cell = " - |";
      for (const json& row : sw.at("table"))
        if (row.at("strategy") == name) {
          const std::string chosen = point_text(row.at("chosen"));
          cell = fmt::format(" {}{} |", interval_text(interval_from_json(row.at("acc"))), chosen == "defaults" ? "" : " (" + chosen + ")");
        }
      md += cell;
    }
    md += "\n";
  }
  return md + "\n";
}

SweepPage render_sweep_page(const std::vector<std::string>& dirs, const SweepPageOptions& o, PagePlots& plots) {
  SweepPage page;
  const bool several = dirs.size() > 1;
  std::string title = o.title;
  if (title.empty()) title = several ? fmt::format("Sweeps: {}", fmt::join(dirs, ", ")) : "Sweep report: " + dirs[0];
  page.markdown = fmt::format("# {}\n\nGenerated by `clbench report` from each sweep's sweep.json and its cells' "
                              "results.json; nothing here is typed by hand. The tables and choices are also in the JSON "
                              "beside this page.{}\n\n",
                              title, o.command.empty() ? "" : fmt::format(" Report: `{}`.", o.command));
  page.json = {{"format", "clbench-report-sweeps"}, {"version", 1}, {"sources", dirs}, {"sweeps", json::array()}};
  std::string sections;
  for (size_t i = 0; i < dirs.size(); ++i) {
    Section s = sweep_section(dirs[i], int(i), several, o.strategies, plots);
    sections += s.markdown;
    page.json["sweeps"].push_back(std::move(s.json_block));
  }
  if (several) page.markdown += "## Summary\n\n" + summary_markdown(page.json["sweeps"]);
  page.markdown += sections;
  if (!plots.note().empty()) page.markdown += plots.note() + "\n";
  return page;
}

}  // namespace clb::cli
