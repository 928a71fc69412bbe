#pragma once
// The cells of a sweep (framework/cli/sweep_spec.h): one run of one strategy with one grid point
// and one seed, either on the validation split (selection) or on the test sets (final). Each cell
// lives in the sweep's --out directory as
//   cells/NAME.json   its config block: `clbench run --config cells/NAME.json` repeats it
//   cells/NAME/       that run's --out: results.json, results.csv, manifest.json (complete or not)
//   cells/NAME.log    the run's progress and errors
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "framework/cli/sweep_spec.h"

namespace clb::cli {

struct SweepCell {
  std::string name;              // also its file names: letters, digits and . = _ + - only
  std::string strategy;
  std::vector<FlagValue> point;  // the grid's values ({} where the strategy has no grid)
  uint64_t seed = 0;
  bool final = false;            // test sets (final seeds) or the validation split (selection seeds)
  nlohmann::json config;         // the run's config block (to_json of run's RunConfig)
};

// "lambda=10, lr=0.001", or "defaults" for the empty point.
std::string point_text(const std::vector<FlagValue>& point);

// Every strategy x grid point x selection seed, each config built by run's own flag parser (so a
// bad flag or value fails here, naming the config file, before any cell runs).
std::vector<SweepCell> selection_cells(const SweepSpec& spec, int threads);
// The chosen point of each strategy (in spec.strategies' order) x final seed.
std::vector<SweepCell> final_cells(const SweepSpec& spec, const std::vector<std::vector<FlagValue>>& chosen,
                                   int threads);

// The points of one strategy's grid, in grid order (the first axis varies slowest).
std::vector<std::vector<FlagValue>> grid_points(const std::vector<GridAxis>& axes);

struct CellMetrics {
  double acc = 0, bwt = 0, forgetting = 0;
};

// Where a cell stands in `dir` (the sweep's --out): finished (its run's manifest says complete),
// stopped with a checkpoint to resume from, or to start (anything a killed start left is removed).
// Throws clb::Error when the cell's files hold another config (another sweep wrote DIR).
enum class CellState { kFinished, kResumable, kToStart };
CellState prepare_cell(const std::string& dir, const SweepCell& cell);
// A finished cell's metrics from its results.json.
CellMetrics read_cell_metrics(const std::string& dir, const SweepCell& cell);

std::string cell_config_path(const std::string& dir, const std::string& name);
std::string cell_out_dir(const std::string& dir, const std::string& name);
std::string cell_log_path(const std::string& dir, const std::string& name);

}  // namespace clb::cli
