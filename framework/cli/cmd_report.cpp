// clbench report: a benchmark-suite run (scripts/bench_suite.sh) as results/<name>.md, the
// normalised JSON beside it and PNG plots (gnuplot), all written atomically.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "framework/core/atomic_file.h"
#include "benchmarks/suite/bench_report.h"
#include "framework/cli/commands.h"
#include "framework/core/error.h"
#include "framework/core/subprocess.h"

namespace clb::cli {

namespace {

namespace fs = std::filesystem;

struct ReportCliOptions {
  std::string source, out, title;
  bool plots = true;
};

// Draws each plot into <out dir>/plots/<stem>_<name>.png through a temporary file, so a failed
// gnuplot leaves the previous PNG in place. Returns the paths relative to the page.
std::vector<std::string> draw_plots(const std::vector<Plot>& plots, const fs::path& out, std::string* note) {
  std::vector<std::string> files;
  if (plots.empty()) return files;
  if (!on_path("gnuplot")) {
    *note = "Plots not drawn: gnuplot was not found (install it with `apt-get install gnuplot-nox` and run the report "
            "again).";
    return files;
  }
  const fs::path dir = out.parent_path() / "plots";
  fs::create_directories(dir);
  for (const Plot& p : plots) {
    const std::string rel = fmt::format("plots/{}_{}.png", out.stem().string(), p.name);
    const fs::path png = out.parent_path() / rel;
    const std::string tmp_png = png.string() + fmt::format(".tmp.{}", getpid());
    const std::string script = (dir / fmt::format(".{}_{}.gp.{}", out.stem().string(), p.name, getpid())).string();
    write_file_atomic(script, gnuplot_script(p, tmp_png));
    Redirects io;
    io.err = script + ".err";
    const int rc = run_process({"gnuplot", script}, io);
    std::string err;
    if (rc != 0 && fs::exists(script + ".err")) err = read_file(script + ".err");
    fs::remove(script), fs::remove(script + ".err");
    if (rc != 0 || !fs::exists(tmp_png)) {
      fs::remove(tmp_png);
      fail("gnuplot failed on plot {} ({}); the page was not written", p.name, err.empty() ? "no output" : err.substr(0, 200));
    }
    fs::rename(tmp_png, png);
    files.push_back(rel);
  }
  return files;
}

void report(const ReportCliOptions& o, const std::string& command) {
  if (o.out.size() < 4 || o.out.substr(o.out.size() - 3) != ".md")
    fail("--out {}: name the markdown page to write, e.g. --out results/cpu.md", o.out);
  const fs::path out(o.out);
  if (!out.parent_path().empty() && !fs::is_directory(out.parent_path()))
    fail("--out {}: directory {} does not exist; create it first", o.out, out.parent_path().string());
  SuiteResults s;
  if (fs::is_directory(o.source)) {
    s = load_suite(o.source);
  } else if (fs::exists(o.source)) {
    s = load_results_document(o.source);
  } else {
    fail("{}: no such directory or file; pass the directory scripts/bench_suite.sh wrote (or its results JSON)", o.source);
  }
  ReportOptions ro;
  ro.title = o.title;
  ro.command = command;
  if (o.plots) ro.plot_files = draw_plots(report_plots(s), out, &ro.plot_note);
  fs::path json_path = out;
  json_path.replace_extension(".json");
  write_file_atomic(json_path.string(), results_document(s).dump(1) + "\n");
  write_file_atomic(o.out, render_report(s, ro));
  fmt::print(stderr, "clbench report: wrote {} and {}{}\n", o.out, json_path.string(),
             ro.plot_files.empty() ? "" : fmt::format(" and {} plot(s)", ro.plot_files.size()));
}

}  // namespace

void register_report(CLI::App& app) {
  auto o = std::make_shared<ReportCliOptions>();
  CLI::App* c = app.add_subcommand(
      "report",
      "Turn a benchmark-suite run into a markdown page, its JSON and PNG plots.\n"
      "Example: clbench report build/suite-cpu --out results/cpu.md   (scripts/bench_suite.sh runs it for you)");
  c->option_defaults()->always_capture_default();
  c->add_option("source", o->source,
                "A suite directory (meta.json, bench_ops.json, bench_train.json, peer_pytorch.json), or a "
                "clbench-results/1 JSON written by an earlier report")
      ->required();
  c->add_option("--out", o->out, "The page to write; the JSON goes beside it (.json), plots into plots/")->required();
  c->add_option("--title", o->title, "Page title (default: CPU results, or GPU results: <the card>)");
  c->add_flag("!--no-plots", o->plots, "Do not draw the PNG plots");
  c->callback([o] {
    std::string cmd = "clbench report " + o->source + " --out " + o->out;
    if (!o->title.empty()) cmd += " --title '" + o->title + "'";
    if (!o->plots) cmd += " --no-plots";
    report(*o, cmd);
  });
}

}  // namespace clb::cli
