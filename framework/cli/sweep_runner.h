#pragma once
// Runs a sweep's cells (framework/cli/sweep_cells.h) to completion: each in its own process
// (`clbench run --config cells/NAME.json --out cells/NAME`, or `--resume` for one a stop left with
// a checkpoint), `workers` at a time on this machine and, under MPI, on every rank: rank 0 hands
// cells out one at a time as ranks ask. Results are files, so a serial, parallel or MPI sweep
// writes the same ones.
#include <functional>
#include <string>
#include <vector>

#include "framework/cli/sweep_cells.h"
#include "framework/cli/sweep_mpi.h"

namespace clb::cli {

class SweepRunner {
 public:
  using Progress = std::function<void(const std::string&)>;
  // exe: this clbench. workers: cells at once on this rank.
  SweepRunner(std::string exe, std::string out, int workers, const MpiWorld& world, Progress progress);

  // Rank 0: runs every cell of `cells` not yet finished and returns when all have. Throws
  // clb::Error naming the first cell that failed and its log (after the running ones end), and
  // clb::Interrupted on SIGINT/SIGTERM (after asking the running cells to stop at their next step:
  // they keep a checkpoint, and the same sweep command goes on from it).
  void run_phase(const std::vector<SweepCell>& cells, const std::string& phase);
  // Rank 0, when no phase follows: every other rank is told to stop (at its next request).
  void release_ranks();
  // Rank 0, interrupted: every other rank stops its running cells (they keep a checkpoint) and ends.
  void abort_ranks();
  // Ranks but 0: run what rank 0 hands out until it says stop (or aborts).
  void serve();

 private:
  struct Running {
    int pid;
    std::string name;
  };
  void start(const std::string& name, bool resume);
  // The cells of this rank that ended since the last call: (name, exit status).
  std::vector<std::pair<std::string, int>> reap();
  void stop_all();  // SIGTERM to the running cells, and wait for them

  std::string exe_, out_;
  int workers_;
  const MpiWorld& world_;
  Progress progress_;
  std::vector<Running> running_;
  std::vector<bool> stopped_;  // by rank: told to stop
  int ended_in_this_process_ = 0;  // for the test hook CLBENCH_SWEEP_STOP_AFTER
};

}  // namespace clb::cli
