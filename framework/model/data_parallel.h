#pragma once
// Data parallelism on the CPU. A training step, a Fisher pass and an evaluation are sums over
// samples, so each thread runs the single-threaded path (single-threaded BLAS) on its own rows
// with its own workspace, and the partial sums are added in a fixed order. One synchronisation
// per step instead of one per GEMM: on the 2-core reference machine, threaded OpenBLAS inside
// the step was slower than one thread (38k vs 43k samples/s, results/cpu.md as of b7136cc) while two
// independent single-threaded streams each keep full speed.
//
// Results are bitwise reproducible for a given thread count; another thread count changes the
// order of the float additions (last-bit differences).
#include <exception>
#include <vector>

#include "framework/backend/backend.h"
#include "framework/model/mlp_passes.h"
#include "framework/model/output_loss.h"

namespace clb {

constexpr int kMinRowsPerShard = 32;  // below this a shard's GEMMs are too thin to pay for a thread

int shards_for(const Backend& be, int rows);

// Workspaces for up to `shards` concurrent shards of a batch of max_batch rows.
struct ParallelWorkspace {
  // with_scratch: a second workspace per shard, for output losses (OutputRows::scratch).
  ParallelWorkspace(const MlpArch& arch, int max_batch, int shards, bool with_scratch = false);
  int shards;
  std::vector<MlpWorkspace> ws;              // one per shard
  std::vector<MlpWorkspace> scratch;         // one per shard, or none
  std::vector<std::vector<float>> partial;   // shards 1.. : their gradient sums
};

// grad = batch-mean gradient of b, the batch split across pw.shards threads. Returns the mean loss.
// extra (if not null): a strategy's loss on the outputs, applied to each shard's rows.
double compute_gradients(Backend& be, const Mlp& m, const Batch& b, ParallelWorkspace& pw, float* grad,
                         const OutputLoss* extra = nullptr);

// One training step: the batch-mean gradient as above, then, block by block of parameters, the
// shards' partial gradients summed and the fused penalty + optimizer update (`update`, whose
// theta/grad/fisher/anchor/m/v cover all parameters) applied while the block is still in cache:
// the gradient is not streamed through memory a second time. Returns the mean loss.
double train_step(Backend& be, Mlp& m, const Batch& b, ParallelWorkspace& pw, const FusedUpdateArgs& update,
                  const OutputLoss* extra = nullptr);

// Runs fn(s) for s = 0..S-1, one OpenMP thread each. An exception from any shard is rethrown
// here: one escaping an OpenMP region would terminate the process instead of reaching the CLI's
// one-line error.
template <class Fn>
void run_shards(int S, Fn&& fn) {
  std::exception_ptr error;
#pragma omp parallel for num_threads(S) schedule(static, 1)
  for (int s = 0; s < S; ++s) {
    try {
      fn(s);
    } catch (...) {
#pragma omp critical(clb_run_shards_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

// dst[k] = sum of parts[s][k] over s in order, parallel over k.
void sum_partials(std::vector<std::vector<float>>& parts, float* dst, int64_t n);

}  // namespace clb
