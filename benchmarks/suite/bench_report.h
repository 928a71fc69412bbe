#pragma once
// `clbench report`: a benchmark-suite run (benchmarks/suite/bench_results.h) as a markdown page and
// gnuplot plots. Every figure comes from the run's JSON; each table row names where and when it
// was measured; ratios against the peer come from the same run on the same machine.
#include <string>
#include <utility>
#include <vector>

#include "benchmarks/suite/bench_results.h"
#include "framework/harness/plot.h"

namespace clb {

// The plots a suite run supports: throughput against batch size (per net) and against hidden
// width (batch 128), clbench on each backend beside the peer, both axes logarithmic (Plot's
// defaults). Plots without data are left out.
std::vector<Plot> report_plots(const SuiteResults& s);

struct ReportOptions {
  std::string title;                 // empty: from the suite's name
  std::string command;               // the report command, printed in the header
  std::vector<std::string> plot_files;  // PNGs to show, relative to the page
  std::string plot_note;             // why plots are missing, if they are
};

std::string render_report(const SuiteResults& s, const ReportOptions& o);

}  // namespace clb
