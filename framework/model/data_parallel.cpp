#include "framework/model/data_parallel.h"

#include <omp.h>

#include <algorithm>

#include "framework/core/error.h"

namespace clb {

int shards_for(const Backend& be, int rows) {
  return std::clamp(rows / kMinRowsPerShard, 1, be.max_host_threads());
}

ParallelWorkspace::ParallelWorkspace(const MlpArch& arch, int max_batch, int n, bool with_scratch)
    : shards(std::max(n, 1)) {
  const int rows = (max_batch + shards - 1) / shards;
  for (int s = 0; s < shards; ++s) ws.emplace_back(arch, rows);
  if (with_scratch)
    for (int s = 0; s < shards; ++s) scratch.emplace_back(arch, rows);
  partial.assign(shards - 1, std::vector<float>(size_t(arch.num_params())));
}

namespace {

constexpr int64_t kUpdateBlock = 8192;  // params per block: 8 streams x 32 KiB stay in L2

// Shard s's rows of b, gradient summed into `out` (already scaled by 1/B), with the strategy's
// output loss if any. Returns its loss sum.
double shard_gradients(Backend& be, const Mlp& m, const Batch& b, ParallelWorkspace& pw, int s, int S, float* out,
                       const OutputLoss* extra) {
  const int begin = int(int64_t(b.B) * s / S), end = int(int64_t(b.B) * (s + 1) / S);
  const Batch rows = slice(b, begin, end, m.arch.input_dim(), m.arch.num_outputs());
  if (!extra) return compute_gradients(be, m, rows, pw.ws[s], out, 1.0f / float(b.B));
  CLB_ASSERT(!pw.scratch.empty());
  MlpWorkspace& ws = pw.ws[s];
  const PassBuffers buffers = ws.buffers();
  forward(be, view(m), rows, buffers);
  const int C = m.arch.num_outputs();
  (*extra)(OutputRows{&be, s, begin, b.B, C, rows, buffers.act.back(), buffers.delta.back(), buffers.loss, &pw.scratch[s]});
  gradients_from_delta(be, view(m), rows, buffers, out, 1.0f / float(b.B));
  double sum = 0.0;
  for (int i = 0; i < rows.B; ++i) sum += ws.loss[i];
  return sum;
}

// grad[k0, k1) += the other shards' partials, in shard order.
void add_partials(const ParallelWorkspace& pw, int S, float* grad, int64_t k0, int64_t k1) {
  for (int s = 1; s < S; ++s) {
    const float* p = pw.partial[s - 1].data();
    for (int64_t k = k0; k < k1; ++k) grad[k] += p[k];
  }
}

FusedUpdateArgs block_of(const FusedUpdateArgs& u, int64_t k0, int64_t k1) {
  FusedUpdateArgs b = u;
  auto shift = [k0](auto* p) { return p ? p + k0 : p; };
  b.theta = shift(u.theta), b.grad = shift(u.grad), b.fisher = shift(u.fisher), b.anchor = shift(u.anchor);
  b.m = shift(u.m), b.v = shift(u.v);
  b.n = k1 - k0;
  return b;
}

// The parallel part shared by compute_gradients and train_step: shard gradients, then per block
// the partials summed and (if update) the update applied.
double sharded_step(Backend& be, const Mlp& m, const Batch& b, ParallelWorkspace& pw, float* grad,
                    const FusedUpdateArgs* update, const OutputLoss* extra) {
  const int S = std::min(pw.shards, b.B);
  const int64_t P = m.arch.num_params();
  if (S <= 1) {
    const double loss = shard_gradients(be, m, b, pw, 0, 1, grad, extra);
    if (update) be.fused_update(*update);
    return loss / b.B;
  }
  std::vector<double> loss(S);
  run_shards(S, [&](int s) {
    loss[s] = shard_gradients(be, m, b, pw, s, S, s == 0 ? grad : pw.partial[s - 1].data(), extra);
  });
  // Blocks of parameters dealt to the same threads: partials summed, update applied in cache.
  const int64_t blocks = (P + kUpdateBlock - 1) / kUpdateBlock;
  run_shards(S, [&](int s) {
    for (int64_t blk = blocks * s / S; blk < blocks * (s + 1) / S; ++blk) {
      const int64_t k0 = blk * kUpdateBlock, k1 = std::min(P, k0 + kUpdateBlock);
      add_partials(pw, S, grad, k0, k1);
      if (update) be.fused_update(block_of(*update, k0, k1));
    }
  });
  double total = 0;
  for (double l : loss) total += l;
  return total / b.B;
}

}  // namespace

double compute_gradients(Backend& be, const Mlp& m, const Batch& b, ParallelWorkspace& pw, float* grad,
                         const OutputLoss* extra) {
  return sharded_step(be, m, b, pw, grad, nullptr, extra);
}

double train_step(Backend& be, Mlp& m, const Batch& b, ParallelWorkspace& pw, const FusedUpdateArgs& update,
                  const OutputLoss* extra) {
  CLB_ASSERT(update.theta == m.params.data() && update.n == m.arch.num_params());
  return sharded_step(be, m, b, pw, const_cast<float*>(update.grad), &update, extra);
}

void sum_partials(std::vector<std::vector<float>>& parts, float* dst, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t k = 0; k < n; ++k) {
    float acc = 0.0f;
    for (const auto& p : parts) acc += p[k];
    dst[k] = acc;
  }
}

}  // namespace clb
