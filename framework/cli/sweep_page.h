#pragma once
// `clbench report SWEEP_DIR [SWEEP_DIR...]`: the directories `clbench sweep --out DIR` wrote
// (sweep.json, cells/) as one markdown page, a section per sweep: the final table with its 95%
// intervals and the choices, validation ACC against each hyper-parameter per strategy (the
// stability-plasticity trade-off, the chosen point marked), the table as bars with error bars,
// and, where the final cells' run directories are still there, their loss and accuracy figures
// (framework/harness/run_figures.h). The page's JSON holds each sweep's protocol, choices and
// table, naming the sweep.json they came from.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "framework/harness/plot_files.h"

namespace clb::cli {

// True when `dir` holds a sweep.json.
bool is_sweep_directory(const std::string& dir);

struct SweepPage {
  std::string markdown;
  nlohmann::json json;
};
struct SweepPageOptions {
  std::string title;    // "" for "Sweep: ..." (one sweep) or "Sweeps" (several)
  std::string command;  // the report command, printed in the header
  std::vector<std::string> strategies;  // the final cells' figures' strategies (empty: all)
};
// Throws clb::Error naming the sweep.json (or a cell's results.json) that is damaged.
SweepPage render_sweep_page(const std::vector<std::string>& dirs, const SweepPageOptions& o, PagePlots& plots);

}  // namespace clb::cli
