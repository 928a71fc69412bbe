#pragma once
// Continual-learning metrics, as defined in README, "Metrics" (tasks indexed from 0 here):
//   R[i][j] = test accuracy on task j after training task i;  b[j] = accuracy at initialisation.
//   ACC = mean_j R[T-1][j]
//   BWT = mean_{j<T-1} (R[T-1][j] - R[j][j])                  (negative = forgetting)
//   FWT = mean_{j>0} (R[j-1][j] - b[j])
//   forgetting = mean_{j<T-1} (max_{l<T-1} R[l][j] - R[T-1][j])  (Chaudhry et al. 2018, max form)
//   LCA_beta = 1/(beta+1) sum_{b=0..beta} Z_b,  Z_b = mean_k (acc on task k after b minibatches of k)
// BWT, FWT and forgetting need two tasks: with one they are NaN (null in JSON, "n/a" in tables).
#include <cstdint>
#include <vector>

namespace clb {

using Matrix = std::vector<std::vector<double>>;

struct ClMetrics {
  double acc = 0, bwt = 0, fwt = 0, forgetting = 0, lca = 0;
};

// lca_curves[k][b] = accuracy on task k after b minibatches of task k (b = 0..beta).
ClMetrics compute_metrics(const Matrix& R, const std::vector<double>& b, const Matrix& lca_curves);

struct MeanStd {
  double mean = 0, std = 0;  // std: sample standard deviation (n-1); 0 for one value
};
MeanStd mean_std(const std::vector<double>& values);

// The training loss over a run: each step's mean minibatch loss, averaged over bins of consecutive
// steps so that a task keeps at most kPointsPerTask points (a bin of one step while a task is
// that short). step[k] is the global step (1-based, counted over the whole run) a bin ends on;
// task_start[t] the global steps done before task t's first; steps the steps done so far.
struct LossCurve {
  static constexpr int64_t kPointsPerTask = 250;
  std::vector<int64_t> step, task_start;
  std::vector<double> loss;
  int64_t steps = 0;
  // Task t's losses, in step order, as points (t is the next task: task_start.size() == t).
  void add_task(const std::vector<double>& losses);
};

}  // namespace clb
