#pragma once
// Diagonal Fisher information of an Mlp on a task's training data (README, "The math"): the mean over N
// samples of squared per-sample gradients, computed with the squared-operand trick (no per-sample
// loop, no per-sample gradients in memory).
#include <cstdint>
#include <string>
#include <vector>

#include "framework/backend/backend.h"
#include "framework/model/mlp.h"
#include "framework/model/mlp_passes.h"
#include "framework/data/task.h"

namespace clb {

enum class FisherEstimator {
  kEmpirical,  // y = the true label
  kSampled,    // y ~ softmax(z), seeded, `draws` draws per sample (Monte-Carlo true Fisher)
  kExact,      // sum_c p_c g_c^2: C weighted rows per sample
  kBatch,      // squares of minibatch-mean gradients (what Avalanche computes): comparison only
};

// empirical | sampled | exact | batch; throws clb::SettingError naming fisher.estimator for anything else.
FisherEstimator parse_fisher_estimator(const std::string& text);
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

// Throws clb::SettingError (naming fisher.draws) for a configuration no estimator can run.
void check_fisher_config(const FisherConfig& cfg);
// K: the delta rows each sample contributes (exact: C, sampled: draws, else 1).
int fisher_rows_per_sample(const FisherConfig& cfg, int num_outputs);
// Samples per pass: cfg.batch, fewer when K stacked rows would pass 65536 delta rows.
int fisher_pass_samples(const FisherConfig& cfg, int K);
// The K output-delta rows per sample whose squares, summed, give the estimator:
//   empirical: p - e_y;  sampled: (p - e_{y_s}) / sqrt(K);  exact: sqrt(p_c) (p - e_c), c = 1..C.
// Sampled draws come from Rng::derive(cfg.seed, 0xF15, start): the pass's first sample `start`.
void fisher_output_deltas(const FisherConfig& cfg, int64_t start, const float* probs, const int32_t* y,
                          const uint8_t* mask, int B, int C, int K, float* delta);
// What the importance pass accumulates per layer from the deltas and the layer's inputs:
//   squared   (Δ∘Δ)^T (A∘A): the Fisher's per-sample squared gradients
//   absolute  |Δ|^T |A|: MAS's per-sample absolute gradients, by handing fisher_diag (which squares
//             what it loads) the square roots of the absolute operands; host memory only
enum class ImportanceOperands { kSquared, kAbsolute };
// The importance pass every importance shares (host Fisher, resident Fisher, MAS): with the output
// deltas in ws.delta.back() (after a forward pass of b), backpropagates them and adds scale * the
// per-layer accumulation above to F (backend memory, num_params).
void backprop_and_accumulate(Backend& be, const ModelView& m, const Batch& b, const PassBuffers& ws, int K,
                             float scale, float* F, ImportanceOperands ops = ImportanceOperands::kSquared);

// Fisher (num_params, flat like Mlp::params) over `refs` samples.
std::vector<float> compute_fisher(Backend& be, const Mlp& m, const std::vector<Task>& tasks,
                                  const std::vector<SampleRef>& refs, const FisherConfig& cfg,
                                  FisherStats* stats = nullptr);

}  // namespace clb
