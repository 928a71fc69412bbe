#include "framework/model/evaluate.h"

#include <algorithm>

#include "framework/model/data_parallel.h"

namespace clb {

double evaluate(Backend& be, const Mlp& m, const std::vector<Task>& tasks, int task, int eval_batch,
                int64_t* samples_seen) {
  const auto refs = sample_refs(tasks[task], Split::kTest);
  if (refs.empty()) return 0.0;
  const int64_t N = int64_t(refs.size());
  // Small batches spread over the threads (data_parallel.h); each counts its own hits.
  const int rows = int(std::min<int64_t>(eval_batch, (N + be.max_host_threads() - 1) / be.max_host_threads()));
  const int64_t batches = (N + rows - 1) / rows;
  const int S = int(std::clamp<int64_t>(batches, 1, be.max_host_threads()));
  std::vector<int64_t> correct(S, 0);
  run_shards(S, [&](int s) {
    MlpWorkspace ws(m.arch, rows);
    BatchBuffers buf;
    for (int64_t k = s; k < batches; k += S) {
      const int64_t start = k * rows;
      const int B = int(std::min<int64_t>(rows, N - start));
      gather(tasks, Split::kTest, refs.data() + start, B, m.arch.num_outputs(), buf);
      Batch b = buf.batch;
      b.y = nullptr;  // inference: argmax only
      forward(be, m, b, ws);
      for (int i = 0; i < B; ++i) correct[s] += ws.argmax[i] == buf.y[i];
    }
  });
  if (samples_seen) *samples_seen += N;
  int64_t hits = 0;
  for (int64_t c : correct) hits += c;
  return double(hits) / double(N);
}

}  // namespace clb
