#pragma once
// clbench sweep across machines: under mpirun (or srun) every rank runs cells, and rank 0 hands
// them out one at a time as ranks ask (a slow cell does not idle the others) and writes the
// summary. MPI is optional in the build (CLB_HAVE_MPI); without it a sweep is one process.
// Ranks share files: --out must be on a file system every rank sees.
#include <optional>
#include <string>

namespace clb::cli {

struct MpiMessage {
  int from = 0, tag = 0;
  std::string text;
};

class MpiWorld {
 public:
  // Joins the MPI job when the environment says this process is one rank of several (mpirun,
  // srun); otherwise, or in a build without MPI, the world is this process alone. A launch of
  // several ranks by a build without MPI is refused (they would all run every cell).
  MpiWorld();
  ~MpiWorld();
  MpiWorld(const MpiWorld&) = delete;
  MpiWorld& operator=(const MpiWorld&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  void send(int to, int tag, const std::string& text) const;
  // A message from any rank, if one has arrived (never blocks: callers sleep between polls, so
  // waiting ranks leave the cores to the cells).
  std::optional<MpiMessage> poll() const;

 private:
  int rank_ = 0, size_ = 1;
  bool joined_ = false;
};

// The rank count the launcher announces in the environment (1 when none does).
int launched_ranks();

}  // namespace clb::cli
