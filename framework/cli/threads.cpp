#include <cblas.h>
#include <omp.h>

#include "framework/cli/commands.h"
#include "framework/error.h"

namespace clb::cli {

void set_threads(int threads) {
  if (threads < 0) fail("--threads: must be >= 0 (0 = every core), got {}", threads);
  if (threads == 0) threads = omp_get_num_procs();
  // Threads split each batch (framework/data_parallel.h); every BLAS call runs on the thread
  // that makes it, so OpenBLAS's own pool stays at one thread.
  openblas_set_num_threads(1);
  omp_set_num_threads(threads);
}

}  // namespace clb::cli
