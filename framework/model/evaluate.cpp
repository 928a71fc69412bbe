#include "framework/model/evaluate.h"

#include <algorithm>
#include <limits>

#include "framework/model/data_parallel.h"

namespace clb {

double evaluate(Backend& be, const Mlp& m, const std::vector<Task>& tasks, int task, int eval_batch,
                int64_t* samples_seen, double* loss, const Predictor* predictor) {
  std::vector<float> own;
  Mlp viewed;
  const Mlp* model = &m;
  if (predictor && predictor->params_for(task, m.params, own)) {
    viewed.arch = m.arch, viewed.params = std::move(own);
    model = &viewed;
  }
  const bool classify = predictor && predictor->classifies();
  const int L = m.arch.num_layers(), feature_dim = m.arch.in(L - 1);
  const auto refs = sample_refs(tasks[task], Split::kTest);
  if (loss) *loss = std::numeric_limits<double>::quiet_NaN();
  if (refs.empty()) return 0.0;
  const int64_t N = int64_t(refs.size());
  // Small batches spread over the threads (data_parallel.h); each counts its own hits.
  const int rows = int(std::min<int64_t>(eval_batch, (N + be.max_host_threads() - 1) / be.max_host_threads()));
  const int64_t batches = (N + rows - 1) / rows;
  const int S = int(std::clamp<int64_t>(batches, 1, be.max_host_threads()));
  std::vector<int64_t> correct(S, 0);
  std::vector<double> loss_sum(S, 0.0);
  run_shards(S, [&](int s) {
    MlpWorkspace ws(m.arch, rows);
    BatchBuffers buf;
    std::vector<int32_t> predicted(classify ? rows : 0);
    for (int64_t k = s; k < batches; k += S) {
      const int64_t start = k * rows;
      const int B = int(std::min<int64_t>(rows, N - start));
      gather(tasks, Split::kTest, refs.data() + start, B, m.arch.num_outputs(), buf);
      Batch b = buf.batch;
      if (!loss) b.y = nullptr;  // argmax only; with labels the pass also gives each row's loss
      forward(be, *model, b, ws);
      const int32_t* guess = ws.argmax.data();
      if (classify) {
        predictor->classify(L >= 2 ? ws.act[L - 1].data() : b.x, B, feature_dim, b.class_mask, m.arch.num_outputs(),
                            predicted.data());
        guess = predicted.data();
      }
      for (int i = 0; i < B; ++i) correct[s] += guess[i] == buf.y[i];
      if (loss)
        for (int i = 0; i < B; ++i) loss_sum[s] += ws.loss[i];
    }
  });
  if (samples_seen) *samples_seen += N;
  int64_t hits = 0;
  for (int64_t c : correct) hits += c;
  if (loss) {
    double sum = 0;
    for (double l : loss_sum) sum += l;
    *loss = sum / double(N);
  }
  return double(hits) / double(N);
}

}  // namespace clb
