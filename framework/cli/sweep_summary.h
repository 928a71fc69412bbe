#pragma once
// What a sweep concludes: each strategy's choice on the validation split, and the table of the
// chosen settings on the test sets (95% t-intervals over the final seeds, paired differences
// against naive). Written as sweep.json, table.md and table.csv.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "framework/cli/sweep_cells.h"
#include "framework/harness/statistics.h"

namespace clb::cli {

struct FinishedCell {
  SweepCell cell;
  CellMetrics metrics;
};

// Per strategy, in spec.strategies' order: the grid point with the highest mean validation ACC
// over the selection seeds (ties: the first in grid order), and why, for sweep.json.
struct Choice {
  std::string strategy;
  std::vector<FlagValue> point;
  double validation_acc = 0;
  std::string why;
  nlohmann::json candidates;  // every point: its values, mean validation ACC and the ACC per seed
};
std::vector<Choice> choose(const SweepSpec& spec, const std::vector<FinishedCell>& selection);

struct SweepTables {
  std::string markdown, csv;
  nlohmann::json json;  // sweep.json: the protocol, the choices, every cell and the final table
};
SweepTables summarise(const SweepSpec& spec, const std::vector<Choice>& choices,
                      const std::vector<FinishedCell>& selection, const std::vector<FinishedCell>& final);

// The final table's markdown, one format for table.md and the report's sweep pages: the header,
// and a row per strategy with its chosen setting (as text), validation ACC and intervals.
std::string table_header();
std::string table_row(const std::string& strategy, const std::string& chosen, double validation_acc,
                      const Interval& acc, const Interval& bwt, const Interval& forgetting, const Interval& delta_acc);
// "81.2 ± 1.3" in percent; the mean alone for one seed; "-" where undefined.
std::string interval_text(const Interval& i, bool sign = false);
// An interval as sweep.json's table holds it ({mean, ci95_half_width, n}, null where undefined), back.
Interval interval_from_json(const nlohmann::json& j);

}  // namespace clb::cli
