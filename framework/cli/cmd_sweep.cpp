// clbench sweep CONFIG.toml --out DIR: per-strategy hyper-parameter selection on a validation
// split, then the chosen settings on the test sets over several seeds, summarised with 95%
// intervals (README.md "Sweeps"; framework/cli/sweep_*.h).
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "framework/cli/commands.h"
#include "framework/cli/flag_checks.h"
#include "framework/cli/stop_signals.h"
#include "framework/cli/sweep_cells.h"
#include "framework/cli/sweep_mpi.h"
#include "framework/cli/sweep_runner.h"
#include "framework/cli/sweep_spec.h"
#include "framework/cli/sweep_summary.h"
#include "framework/core/atomic_file.h"
#include "framework/core/error.h"

namespace clb::cli {

namespace {

namespace fs = std::filesystem;

struct SweepOptions {
  std::string config, out;
  int workers = 1;
  int threads = 0;  // per cell; 0 = this machine's cores / workers
  bool dry_run = false;
};

std::string this_executable() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) fail("clbench sweep: cannot find its own executable (/proc/self/exe): {}", ec.message());
  return p.string();
}

std::vector<FinishedCell> metrics_of(const std::string& out, const std::vector<SweepCell>& cells) {
  std::vector<FinishedCell> r;
  for (const SweepCell& c : cells) r.push_back({c, read_cell_metrics(out, c)});
  return r;
}

void sweep(const SweepOptions& o) {
  const auto t_start = std::chrono::steady_clock::now();
  MpiWorld world;
  auto progress = [&](const std::string& msg) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    fmt::print(stderr, "[{:6.1f}s]{} {}\n", s, world.size() > 1 ? fmt::format(" rank {}:", world.rank()) : "", msg);
  };
  check_in_range(o.workers, 1, 1024, "--workers");
  check_in_range(o.threads, 0, 1024, "--threads");
  const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = o.threads > 0 ? o.threads : std::max(1, cores / o.workers);
  SweepRunner runner(this_executable(), o.out, o.workers, world, progress);
  if (world.rank() != 0) return runner.serve();  // rank 0 reads the config and decides

  try {
    const SweepSpec spec = read_sweep_spec(o.config);
    const std::vector<SweepCell> select = selection_cells(spec, threads);
    size_t points = 0;
    for (const auto& s : spec.strategies) points += grid_points(spec.axes_of(s)).size();
    progress(fmt::format("{}: {} strategies, {} settings, {} selection cells (seeds {}), then {} final cells (seeds {}); "
                         "{} thread(s) per cell",
                         o.config, spec.strategies.size(), points, select.size(), fmt::join(spec.selection_seeds, ","),
                         spec.strategies.size() * spec.final_seeds.size(), fmt::join(spec.final_seeds, ","), threads));
    if (o.dry_run) {
      for (const SweepCell& c : select) fmt::print("{}\n", c.name);
      fmt::print("every cell's settings check out; the final cells follow from the selection\n");
      return runner.release_ranks();
    }
    if (fs::exists(o.out) && !fs::is_directory(o.out)) fail("--out {}: is a file; give a directory", o.out);
    fs::create_directories(fs::path(o.out) / "cells");

    runner.run_phase(select, "selection");
    const std::vector<FinishedCell> selected = metrics_of(o.out, select);
    const std::vector<Choice> choices = choose(spec, selected);
    std::vector<std::vector<FlagValue>> chosen;
    for (const Choice& c : choices) {
      progress(fmt::format("{}: {} ({})", c.strategy, point_text(c.point), c.why));
      chosen.push_back(c.point);
    }
    const std::vector<SweepCell> final = final_cells(spec, chosen, threads);
    runner.run_phase(final, "final");
    runner.release_ranks();

    const SweepTables t = summarise(spec, choices, selected, metrics_of(o.out, final));
    // The summary last: a sweep.json means every cell it lists is there.
    write_file_atomic((fs::path(o.out) / "table.md").string(), t.markdown);
    write_file_atomic((fs::path(o.out) / "table.csv").string(), t.csv);
    write_file_atomic((fs::path(o.out) / "sweep.json").string(), t.json.dump(2) + "\n");
    fmt::print("{}", t.markdown);
    progress(fmt::format("wrote {0}/table.md, {0}/table.csv and {0}/sweep.json", o.out));
  } catch (const Interrupted& e) {
    runner.abort_ranks();
    progress(fmt::format("interrupted by {}: finished cells are kept, running ones keep a checkpoint; run the same "
                         "command to go on",
                         signal_name(e.signal())));
    throw;
  } catch (...) {
    runner.release_ranks();
    throw;
  }
}

}  // namespace

void register_sweep(CLI::App& app) {
  auto o = std::make_shared<SweepOptions>();
  CLI::App* c = app.add_subcommand(
      "sweep",
      "Choose each strategy's settings on a validation split, then run them on the test sets over several seeds: "
      "a table with 95% intervals (README.md, Sweeps)");
  c->option_defaults()->always_capture_default();
  c->add_option("config", o->config, "Sweep config (TOML): [run], [protocol], [grid]; see benchmarks/sweeps/")
      ->required();
  c->add_option("--out", o->out,
                "Directory for cells/ (each cell's config, results and log), table.md, table.csv and sweep.json; "
                "the same command again skips finished cells and resumes stopped ones")
      ->required();
  c->add_option("--workers", o->workers, "Cells run at once on this machine (each its own process)");
  c->add_option("--threads", o->threads, "CPU threads per cell (0 = cores / workers); recorded in each cell's config");
  c->add_flag("--dry-run", o->dry_run, "Check every cell's settings and list the selection cells; run nothing");
  c->callback([o] { sweep(*o); });
}

}  // namespace clb::cli
