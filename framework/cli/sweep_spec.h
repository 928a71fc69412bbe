#pragma once
// What a clbench sweep config (TOML) asks for: the base run, per-strategy grids and the selection
// protocol. README.md "Sweeps" documents the file; benchmarks/sweeps/ holds examples.
//
//   [run]                       clbench run's flags without the dashes, one value each
//   scenario = "split"
//   strategy = ["naive", "ewc", "si"]
//   [protocol]
//   validation = 0.1            held-out share of each task's training data that selection scores on
//   selection-seeds = [1000]    seeds of the selection runs (mean over them decides)
//   final-seeds = [0, 1, 2]     seeds of the chosen settings' runs on the test sets
//   [grid]                      lists of values: for every strategy ...
//   lr = [0.001, 0.0003]
//   [grid.ewc]                  ... or for one
//   lambda = [1, 10, 100]
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace clb::cli {

// A run flag and its value as run reads them: {"lambda", "100"}.
using FlagValue = std::pair<std::string, std::string>;
// A flag and the values a grid tries for it, in the file's order.
using GridAxis = std::pair<std::string, std::vector<std::string>>;

struct SweepSpec {
  std::string source;               // the file, for messages
  std::vector<FlagValue> base;      // [run], in the file's order
  std::vector<std::string> strategies;
  std::vector<GridAxis> grid_all;   // [grid]'s lists
  std::vector<std::pair<std::string, std::vector<GridAxis>>> grid_of;  // [grid.NAME], in strategy order
  double validation = 0.1;
  std::vector<uint64_t> selection_seeds = {1000, 1001};
  std::vector<uint64_t> final_seeds = {0, 1, 2, 3, 4};

  // The grid of one strategy: [grid]'s axes, then its own (an axis in both: its own values).
  std::vector<GridAxis> axes_of(const std::string& strategy) const;
};

// Reads and checks the file: TOML syntax (line and column of an error), known sections and keys,
// value types, at least one strategy; every flag is checked again, with its values, when the cells
// are made. Throws clb::Error naming the file and the key.
SweepSpec read_sweep_spec(const std::string& path);

}  // namespace clb::cli
