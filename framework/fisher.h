#pragma once
// Diagonal Fisher information of an Mlp on a task's training data (README, "The math"): the mean over N
// samples of squared per-sample gradients, computed with the squared-operand trick (no per-sample
// loop, no per-sample gradients in memory).
#include <cstdint>
#include <string>
#include <vector>

#include "framework/backend.h"
#include "framework/mlp.h"
#include "framework/task.h"

namespace clb {

enum class FisherEstimator {
  kEmpirical,  // y = the true label
  kSampled,    // y ~ softmax(z), seeded, `draws` draws per sample (Monte-Carlo true Fisher)
  kExact,      // sum_c p_c g_c^2: C weighted rows per sample
  kBatch,      // squares of minibatch-mean gradients (what Avalanche computes): comparison only
};

FisherEstimator parse_fisher_estimator(const std::string& text, const std::string& flag);
const char* to_string(FisherEstimator e);

constexpr int kMaxFisherDraws = 1000;  // beyond this the Monte-Carlo noise is below float32 rounding

struct FisherConfig {
  FisherEstimator estimator = FisherEstimator::kEmpirical;
  int64_t samples = 0;  // first N training samples of the task; 0 = all
  int draws = 1;        // sampled: label draws per sample
  int batch = 256;      // rows per pass (the result does not depend on it, except for kBatch)
  uint64_t seed = 0;    // sampled: label draws
};

struct FisherStats {
  int64_t samples = 0;
  double seconds = 0.0;
  double trace = 0.0;  // sum of the diagonal, printed beside lambda
};

// Fisher (num_params, flat like Mlp::params) over `refs` samples.
std::vector<float> compute_fisher(Backend& be, const Mlp& m, const std::vector<Task>& tasks,
                                  const std::vector<SampleRef>& refs, const FisherConfig& cfg,
                                  FisherStats* stats = nullptr);

}  // namespace clb
