#include "framework/cli/sweep_mpi.h"

#include <cstdlib>

#include "framework/core/error.h"

#ifdef CLB_HAVE_MPI
#include <mpi.h>
#endif

namespace clb::cli {

int launched_ranks() {
  // OpenMPI's mpirun, MPICH's hydra / PMI, and SLURM's srun announce the job's size.
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_NTASKS"})
    if (const char* v = std::getenv(var)) {
      const int n = std::atoi(v);
      if (n > 1) return n;
    }
  return 1;
}

#ifdef CLB_HAVE_MPI

MpiWorld::MpiWorld() {
  if (launched_ranks() <= 1) return;
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SINGLE, &provided);
  joined_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

MpiWorld::~MpiWorld() {
  if (joined_) MPI_Finalize();
}

void MpiWorld::send(int to, int tag, const std::string& text) const {
  MPI_Send(text.data(), int(text.size()), MPI_CHAR, to, tag, MPI_COMM_WORLD);
}

namespace {

MpiMessage receive(const MPI_Status& probed) {
  int n = 0;
  MPI_Get_count(&probed, MPI_CHAR, &n);
  MpiMessage m{probed.MPI_SOURCE, probed.MPI_TAG, std::string(size_t(n), '\0')};
  MPI_Recv(m.text.data(), n, MPI_CHAR, probed.MPI_SOURCE, probed.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  return m;
}

}  // namespace

std::optional<MpiMessage> MpiWorld::poll() const {
  if (!joined_) return std::nullopt;
  int flag = 0;
  MPI_Status st;
  MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
  if (!flag) return std::nullopt;
  return receive(st);
}

#else

MpiWorld::MpiWorld() {
  if (const int n = launched_ranks(); n > 1)
    fail("clbench sweep: launched as one of {} MPI ranks, but this clbench was built without MPI, so every rank would "
         "run every cell; install libopenmpi-dev and rebuild (scripts/setup.sh), or run one process with --workers N",
         n);
}
MpiWorld::~MpiWorld() = default;
void MpiWorld::send(int, int, const std::string&) const { CLB_ASSERT(false); }
std::optional<MpiMessage> MpiWorld::poll() const { return std::nullopt; }

#endif

}  // namespace clb::cli
