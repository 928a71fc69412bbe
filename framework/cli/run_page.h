#pragma once
// `clbench report RUN_DIR`: the directory `clbench run --out DIR` wrote (manifest.json,
// results.json) as a markdown page: the run's settings, the summary table and accuracy matrices,
// and the figures of its runs (framework/harness/run_figures.h).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "framework/harness/plot_files.h"
#include "framework/harness/run_result.h"

namespace clb::cli {

// A results.json: its config block and its runs. Throws clb::Error naming the file when it is
// missing, not JSON, truncated or holds runs that do not fit its config.
struct RunsFile {
  nlohmann::json config;
  std::vector<RunResult> runs;
};
RunsFile read_runs_file(const std::string& path);

// True when `dir` holds a manifest.json of a clbench run.
bool is_run_directory(const std::string& dir);

// The runs of the strategies listed (all runs for an empty list), for the figures: a page of ten
// strategies draws the ones it is about. Throws clb::Error naming --strategies and `source` for
// a name no run has.
std::vector<RunResult> runs_of(const std::vector<RunResult>& runs, const std::vector<std::string>& strategies,
                               const std::string& source);

// What the settings table shows of a run's config block: the scenario and data, the model and its
// training, where and when it ran.
std::string scenario_text(const nlohmann::json& config);
std::string model_text(const nlohmann::json& config);

struct RunPageOptions {
  std::string title;    // "" for "Run: <dir>"
  std::string command;  // the report command, printed in the header
  std::vector<std::string> strategies;  // the figures' strategies (empty: all)
};
std::string render_run_page(const std::string& dir, const RunPageOptions& o, PagePlots& plots);

}  // namespace clb::cli
