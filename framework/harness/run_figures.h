#pragma once
// The figures of a set of runs (results.json's, or a sweep's final cells): the training loss of
// every strategy over the whole task sequence with the task boundaries marked; per strategy the
// test accuracy and test loss of each task after each task, and the accuracy matrix as a heatmap;
// the LCA curves of all strategies. Means over seeds throughout. Strategies keep their colour
// (plot_palette.h).
#include <string>
#include <vector>

#include "framework/harness/plot_files.h"
#include "framework/harness/run_result.h"

namespace clb {

struct RunFigures {
  std::vector<PageFigure> figures;
  std::vector<std::string> notes;  // what was left out and why (a results.json without losses)
};

// name_prefix goes in front of every figure's name (two sections of one page stay apart);
// title_suffix after every title (" (final runs)").
RunFigures run_figures(const std::vector<RunResult>& runs, const std::string& name_prefix = "",
                       const std::string& title_suffix = "");

// A name fit for a file: letters, digits and . _ + - kept, anything else '_'.
std::string file_stem(const std::string& text);

}  // namespace clb
