#include "framework/data_parallel.h"

#include <omp.h>

#include <algorithm>

namespace clb {

int shards_for(const Backend& be, int rows) {
  return std::clamp(rows / kMinRowsPerShard, 1, be.max_host_threads());
}

ParallelWorkspace::ParallelWorkspace(const MlpArch& arch, int max_batch, int n) : shards(std::max(n, 1)) {
  const int rows = (max_batch + shards - 1) / shards;
  for (int s = 0; s < shards; ++s) ws.emplace_back(arch, rows);
  partial.assign(shards - 1, std::vector<float>(size_t(arch.num_params())));
}

double compute_gradients(Backend& be, const Mlp& m, const Batch& b, ParallelWorkspace& pw, float* grad) {
  const int S = std::min(pw.shards, b.B);
  if (S <= 1) return compute_gradients(be, m, b, pw.ws[0], grad) / b.B;
  const float scale = 1.0f / float(b.B);
  std::vector<double> loss(S);
#pragma omp parallel for num_threads(S) schedule(static, 1)
  for (int s = 0; s < S; ++s) {
    const int begin = int(int64_t(b.B) * s / S), end = int(int64_t(b.B) * (s + 1) / S);
    float* out = s == 0 ? grad : pw.partial[s - 1].data();
    loss[s] = compute_gradients(be, m, slice(b, begin, end, m.arch.input_dim(), m.arch.num_outputs()), pw.ws[s],
                                out, scale);
  }
  // grad (shard 0) += shards 1..S-1, in shard order.
  const int64_t P = m.arch.num_params();
#pragma omp parallel for num_threads(S) schedule(static)
  for (int64_t k = 0; k < P; ++k) {
    float acc = grad[k];
    for (int s = 1; s < S; ++s) acc += pw.partial[s - 1][k];
    grad[k] = acc;
  }
  double total = 0;
  for (double l : loss) total += l;
  return total / b.B;
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
