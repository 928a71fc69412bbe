#include <cblas.h>
#include <omp.h>

#include "framework/cli/commands.h"
#include "framework/core/error.h"

namespace clb::cli {

void set_threads(int threads) {
  const int cores = omp_get_num_procs();
  if (threads < 0 || threads > 4 * cores)
    fail("--threads {}: use 0 (every core) to {} (this machine has {} cores)", threads, 4 * cores, cores);
  if (threads == 0) threads = cores;
  // Threads split each batch (framework/model/data_parallel.h); every BLAS call runs on the thread
  // that makes it, so OpenBLAS's own pool stays at one thread.
  openblas_set_num_threads(1);
  omp_set_num_threads(threads);
}

}  // namespace clb::cli
