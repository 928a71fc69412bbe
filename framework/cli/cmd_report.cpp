// clbench report: a run directory (clbench run --out), one or more sweep directories (clbench
// sweep --out) or a benchmark-suite run (scripts/bench_suite.sh) as a markdown page with PNG plots
// (gnuplot) and, for sweeps and suites, a JSON beside it; all written atomically. What the
// directory holds decides which page it gets.
#include <cstdio>
#include <filesystem>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "framework/core/atomic_file.h"
#include "benchmarks/suite/bench_report.h"
#include "framework/cli/commands.h"
#include "framework/cli/flag_checks.h"
#include "framework/core/error.h"
#include "framework/cli/run_page.h"
#include "framework/cli/sweep_page.h"
#include "framework/harness/plot_files.h"

namespace clb::cli {

namespace {

namespace fs = std::filesystem;

struct ReportCliOptions {
  std::vector<std::string> sources;
  std::string out, title, strategies;
  bool plots = true;
};

enum class SourceKind { kRun, kSweep, kSuite };

// What a source holds: a run's manifest.json, a sweep's sweep.json, a suite's meta.json (or a
// results document, a file). One line naming the files expected otherwise.
SourceKind kind_of(const std::string& source) {
  if (!fs::exists(source))
    fail("{}: no such directory or file; pass a clbench run --out or clbench sweep --out directory, or the directory "
         "scripts/bench_suite.sh wrote (or its results JSON)",
         source);
  if (!fs::is_directory(source)) return SourceKind::kSuite;
  if (is_run_directory(source)) return SourceKind::kRun;
  if (is_sweep_directory(source)) return SourceKind::kSweep;
  if (fs::exists(fs::path(source) / "meta.json")) return SourceKind::kSuite;
  fail("{}: holds none of manifest.json (a clbench run --out directory), sweep.json (clbench sweep --out) or "
       "meta.json (a benchmark suite); give one of those directories",
       source);
}

// The page: --out, else DIR/report.md for one run or sweep directory.
std::string page_path(const ReportCliOptions& o, SourceKind kind) {
  std::string out = o.out;
  if (out.empty()) {
    if (kind == SourceKind::kSuite || o.sources.size() > 1)
      fail("--out: name the markdown page to write, e.g. --out results/cpu.md (only one run or sweep directory has a "
           "default, DIR/report.md)");
    out = (fs::path(o.sources[0]) / "report.md").string();
  }
  if (out.size() < 4 || out.substr(out.size() - 3) != ".md")
    fail("--out {}: name the markdown page to write, e.g. --out results/cpu.md", out);
  const fs::path p(out);
  if (!p.parent_path().empty() && !fs::is_directory(p.parent_path()))
    fail("--out {}: directory {} does not exist; create it first", out, p.parent_path().string());
  return out;
}

std::string json_beside(const std::string& page) {
  fs::path p(page);
  p.replace_extension(".json");
  return p.string();
}

void suite_report(const ReportCliOptions& o, const std::string& out, const std::string& command) {
  const std::string& source = o.sources[0];
  const SuiteResults s = fs::is_directory(source) ? load_suite(source) : load_results_document(source);
  ReportOptions ro;
  ro.title = o.title;
  ro.command = command;
  if (o.plots) {
    const std::vector<Plot> plots = report_plots(s);
    ro.plot_files = draw_plots(std::vector<Figure>(plots.begin(), plots.end()), out, &ro.plot_note);
  }
  const std::string json_path = json_beside(out);
  write_file_atomic(json_path, results_document(s).dump(1) + "\n");
  write_file_atomic(out, render_report(s, ro));
  fmt::print(stderr, "clbench report: wrote {} and {}{}\n", out, json_path,
             ro.plot_files.empty() ? "" : fmt::format(" and {} plot(s)", ro.plot_files.size()));
}

void report(const ReportCliOptions& o) {
  std::vector<SourceKind> kinds;
  for (const std::string& source : o.sources) kinds.push_back(kind_of(source));
  if (o.sources.size() > 1)
    for (size_t i = 0; i < kinds.size(); ++i)
      if (kinds[i] != SourceKind::kSweep)
        fail("{}: not a sweep directory (no sweep.json); several sources make one page of sweeps, so each must be a "
             "clbench sweep --out directory",
             o.sources[i]);
  const std::string out = page_path(o, kinds[0]);
  std::string command = fmt::format("clbench report {} --out {}", fmt::join(o.sources, " "), out);
  if (!o.title.empty()) command += " --title '" + o.title + "'";
  if (!o.strategies.empty()) command += " --strategies " + o.strategies;
  if (!o.plots) command += " --no-plots";
  const std::vector<std::string> strategies = split_list(o.strategies);
  if (kinds[0] == SourceKind::kSuite && !strategies.empty())
    fail("--strategies {}: picks the strategies of a run's or sweep's figures; a benchmark suite has none", o.strategies);
  if (kinds[0] == SourceKind::kSuite) return suite_report(o, out, command);
  PagePlots plots(out, o.plots);
  if (kinds[0] == SourceKind::kRun) {
    const std::string md = render_run_page(o.sources[0], {o.title, command, strategies}, plots);
    write_file_atomic(out, md);
    fmt::print(stderr, "clbench report: wrote {} and {} plot(s)\n", out, plots.files().size());
    return;
  }
  const SweepPage page = render_sweep_page(o.sources, {o.title, command, strategies}, plots);
  const std::string json_path = json_beside(out);
  write_file_atomic(json_path, page.json.dump(1) + "\n");
  write_file_atomic(out, page.markdown);
  fmt::print(stderr, "clbench report: wrote {} and {} and {} plot(s)\n", out, json_path, plots.files().size());
}

}  // namespace

void register_report(CLI::App& app) {
  auto o = std::make_shared<ReportCliOptions>();
  CLI::App* c = app.add_subcommand(
      "report",
      "Turn results into a markdown page with PNG plots: a run directory (clbench run --out), one or more sweep\n"
      "directories (clbench sweep --out; one page, a section each, and its JSON) or a benchmark-suite run.\n"
      "Examples: clbench report runs/permuted              (writes runs/permuted/report.md)\n"
      "          clbench report sweeps/a sweeps/b --out results/sweeps.md\n"
      "          clbench report build/suite-cpu --out results/cpu.md   (scripts/bench_suite.sh runs it for you)");
  c->option_defaults()->always_capture_default();
  c->add_option("source", o->sources,
                "A run directory (manifest.json, results.json), sweep directories (sweep.json, cells/), or a suite "
                "directory (meta.json, bench_ops.json, bench_train.json, peer_pytorch.json) or the clbench-results/1 "
                "JSON an earlier suite report wrote")
      ->required();
  c->add_option("--out", o->out,
                "The page to write; plots go into plots/ beside it, and for sweeps and suites the JSON (.json). "
                "Default for one run or sweep directory: DIR/report.md; a suite needs it");
  c->add_option("--title", o->title,
                "Page title (default: Run: DIR, Sweep report: DIR, CPU results or GPU results: <the card>)");
  c->add_option("--strategies", o->strategies,
                "Comma-separated: only these strategies' figures (loss curves, per-task curves, heatmaps, LCA); the "
                "tables, trade-off plots and interval bars keep every strategy. Default: all");
  c->add_flag("!--no-plots", o->plots, "Do not draw the PNG plots");
  c->callback([o] { report(*o); });
}

}  // namespace clb::cli
