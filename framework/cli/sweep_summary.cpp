#include "framework/cli/sweep_summary.h"

#include <cmath>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "framework/core/error.h"
#include "framework/harness/report.h"
#include "framework/harness/statistics.h"

namespace clb::cli {

namespace {

nlohmann::json point_json(const std::vector<FlagValue>& point) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [flag, value] : point) j[flag] = value;
  return j;
}

std::string num(double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : std::string(); }

// null where undefined (BWT of one task, an interval of one seed), as results.json writes it.

nlohmann::json interval_json(const Interval& i) {
  return {{"mean", number_or_null(i.mean)}, {"ci95_half_width", number_or_null(i.half_width)}, {"n", i.n}};
}

}  // namespace

std::string interval_text(const Interval& i, bool sign) {
  if (!std::isfinite(i.mean)) return "-";
  const std::string m = sign ? fmt::format("{:+.1f}", 100 * i.mean) : fmt::format("{:.1f}", 100 * i.mean);
  return std::isfinite(i.half_width) ? fmt::format("{} ± {:.1f}", m, 100 * i.half_width) : m;
}

Interval interval_from_json(const nlohmann::json& j) {
  return {number_or_nan(j.at("mean")), number_or_nan(j.at("ci95_half_width")), j.at("n").get<int>()};
}

std::string table_header() {
  return "| strategy | chosen | validation ACC % | ACC % | BWT % | forgetting % | Δ ACC vs naive % | seeds |\n"
         "|---|---|---|---|---|---|---|---|\n";
}

std::string table_row(const std::string& strategy, const std::string& chosen, double validation_acc,
                      const Interval& acc, const Interval& bwt, const Interval& forgetting, const Interval& delta_acc) {
  return fmt::format("| {} | {} | {:.1f} | {} | {} | {} | {} | {} |\n", strategy, chosen, 100 * validation_acc,
                     interval_text(acc), interval_text(bwt), interval_text(forgetting), interval_text(delta_acc, true),
                     acc.n);
}

std::vector<Choice> choose(const SweepSpec& spec, const std::vector<FinishedCell>& selection) {
  std::vector<Choice> choices;
  for (const std::string& s : spec.strategies) {
    Choice c;
    c.strategy = s;
    c.candidates = nlohmann::json::array();
    const auto points = grid_points(spec.axes_of(s));
    std::vector<double> means;
    for (const auto& point : points) {
      std::vector<double> accs;
      nlohmann::json per_seed = nlohmann::json::object();
      for (const FinishedCell& f : selection)
        if (f.cell.strategy == s && f.cell.point == point) {
          accs.push_back(f.metrics.acc);
          per_seed[std::to_string(f.cell.seed)] = f.metrics.acc;
        }
      CLB_ASSERT(accs.size() == spec.selection_seeds.size());
      means.push_back(t_interval95(accs).mean);
      c.candidates.push_back({{"point", point_json(point)}, {"validation_acc", means.back()}, {"acc_by_seed", per_seed}});
    }
    size_t best = 0;  // the first of the highest: a tie keeps the earlier point
    for (size_t i = 1; i < means.size(); ++i)
      if (means[i] > means[best]) best = i;
    c.point = points[best];
    c.validation_acc = means[best];
    if (points.size() == 1) {
      c.why = fmt::format("no grid: its defaults, validation ACC {:.1f}%", 100 * means[best]);
    } else {
      size_t next = best == 0 ? 1 : 0;
      for (size_t i = 0; i < means.size(); ++i)
        if (i != best && means[i] > means[next]) next = i;
      c.why = fmt::format("highest mean validation ACC of its {} settings over selection seeds {}: {:.1f}%; next: {} "
                          "at {:.1f}%",
                          points.size(), fmt::join(spec.selection_seeds, ", "), 100 * means[best],
                          point_text(points[next]), 100 * means[next]);
    }
    choices.push_back(std::move(c));
  }
  return choices;
}

SweepTables summarise(const SweepSpec& spec, const std::vector<Choice>& choices,
                      const std::vector<FinishedCell>& selection, const std::vector<FinishedCell>& final) {
  // Per strategy its final metrics by seed, in final-seed order.
  auto by_seed = [&](const std::string& s, double CellMetrics::*field) {
    std::vector<double> v;
    for (uint64_t seed : spec.final_seeds)
      for (const FinishedCell& f : final)
        if (f.cell.strategy == s && f.cell.seed == seed) v.push_back(f.metrics.*field);
    CLB_ASSERT(v.size() == spec.final_seeds.size());
    return v;
  };
  const bool has_naive =
      std::find(spec.strategies.begin(), spec.strategies.end(), "naive") != spec.strategies.end();
  SweepTables t;
  t.markdown = fmt::format(
      "## clbench sweep: {}\n\n"
      "Each strategy's settings were chosen by mean ACC on a validation split ({:.0f}% of each task's training data, "
      "held out) over selection seeds {}; the chosen settings then ran on the test sets with final seeds {}. "
      "Intervals: 95% Student-t over the final seeds. Δ ACC: {}.\n\n",
      spec.source, 100 * spec.validation, fmt::join(spec.selection_seeds, ", "), fmt::join(spec.final_seeds, ", "),
      has_naive ? "the paired difference against naive on the same seeds, with its 95% interval"
                : "not given (naive is not in the sweep)");
  t.markdown += table_header();
  t.csv = "strategy,chosen,validation_acc,acc_mean,acc_ci95,bwt_mean,bwt_ci95,forgetting_mean,forgetting_ci95,"
          "delta_acc_vs_naive_mean,delta_acc_vs_naive_ci95,seeds\n";
  nlohmann::json rows = nlohmann::json::array();
  for (const Choice& c : choices) {
    const auto acc = by_seed(c.strategy, &CellMetrics::acc);
    const Interval a = t_interval95(acc), b = t_interval95(by_seed(c.strategy, &CellMetrics::bwt)),
                   f = t_interval95(by_seed(c.strategy, &CellMetrics::forgetting));
    Interval d{std::nan(""), std::nan(""), 0};
    if (has_naive && c.strategy != "naive") d = paired_difference95(acc, by_seed("naive", &CellMetrics::acc));
    t.markdown += table_row(c.strategy, point_text(c.point), c.validation_acc, a, b, f, d);
    t.csv += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{}\n", c.strategy, csv_field(point_text(c.point)),
                         num(c.validation_acc), num(a.mean), num(a.half_width), num(b.mean), num(b.half_width),
                         num(f.mean), num(f.half_width), num(d.mean), num(d.half_width), a.n);
    rows.push_back({{"strategy", c.strategy},
                    {"chosen", point_json(c.point)},
                    {"validation_acc", c.validation_acc},
                    {"acc", interval_json(a)},
                    {"bwt", interval_json(b)},
                    {"forgetting", interval_json(f)},
                    {"delta_acc_vs_naive", interval_json(d)}});
  }
  auto cells_json = [](const std::vector<FinishedCell>& cells) {
    nlohmann::json j = nlohmann::json::array();
    for (const FinishedCell& f : cells)
      j.push_back({{"name", f.cell.name},
                   {"strategy", f.cell.strategy},
                   {"point", point_json(f.cell.point)},
                   {"seed", f.cell.seed},
                   {"results", "cells/" + f.cell.name + "/results.json"},
                   {"acc", f.metrics.acc},
                   {"bwt", number_or_null(f.metrics.bwt)},
                   {"forgetting", number_or_null(f.metrics.forgetting)}});
    return j;
  };
  nlohmann::json choice_json = nlohmann::json::array();
  for (const Choice& c : choices)
    choice_json.push_back({{"strategy", c.strategy},
                           {"chosen", point_json(c.point)},
                           {"validation_acc", c.validation_acc},
                           {"why", c.why},
                           {"candidates", c.candidates}});
  t.json = {{"format", "clbench-sweep"},
            {"version", 1},
            {"config", spec.source},
            {"protocol",
             {{"validation", spec.validation},
              {"selection_seeds", spec.selection_seeds},
              {"final_seeds", spec.final_seeds},
              {"selection", "highest mean validation ACC over the selection seeds; ties: the first in grid order"},
              {"interval", "95% Student-t over the final seeds; delta_acc_vs_naive paired by seed"}}},
            {"choices", choice_json},
            {"table", rows},
            {"selection_cells", cells_json(selection)},
            {"final_cells", cells_json(final)}};
  return t;
}

}  // namespace clb::cli
