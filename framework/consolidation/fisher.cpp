#include "framework/consolidation/fisher.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "framework/model/data_parallel.h"
#include "framework/core/error.h"
#include "framework/core/rng.h"

namespace clb {

FisherEstimator parse_fisher_estimator(const std::string& text) {
  if (text == "empirical") return FisherEstimator::kEmpirical;
  if (text == "sampled") return FisherEstimator::kSampled;
  if (text == "exact") return FisherEstimator::kExact;
  if (text == "batch") return FisherEstimator::kBatch;
  fail_setting("@fisher.estimator '{}': unknown Fisher estimator; use empirical, sampled, exact or batch", text);
}

const char* to_string(FisherEstimator e) {
  switch (e) {
    case FisherEstimator::kEmpirical: return "empirical";
    case FisherEstimator::kSampled: return "sampled";
    case FisherEstimator::kExact: return "exact";
    case FisherEstimator::kBatch: return "batch";
  }
  return "?";
}

void fisher_output_deltas(const FisherConfig& cfg, int64_t start, const float* probs, const int32_t* y,
                          const uint8_t* mask, int B, int C, int K, float* delta) {
  const FisherEstimator est = cfg.estimator;
  // Label draws come from a stream per pass (seed, pass start), so they do not depend on how
  // the passes are spread over threads.
  Rng rng = Rng::derive(cfg.seed, 0xF15, uint64_t(start));
  for (int i = 0; i < B; ++i) {
    const float* p = probs + int64_t(i) * C;
    for (int k = 0; k < K; ++k) {
      float* d = delta + (int64_t(i) * K + k) * C;
      int label;
      float w = 1.0f;
      if (est == FisherEstimator::kEmpirical) {
        label = y[i];
      } else if (est == FisherEstimator::kExact) {
        label = k;
        w = std::sqrt(p[k]);
      } else {
        const double u = rng.uniform();
        double cum = 0.0;
        label = -1;
        for (int c = 0; c < C && label < 0; ++c) {
          cum += p[c];
          if (u < cum) label = c;
        }
        if (label < 0)  // u landed in float rounding slack above the sum: take the last allowed class
          for (int c = C - 1; c >= 0 && label < 0; --c)
            if (mask == nullptr || mask[int64_t(i) * C + c]) label = c;
        w = 1.0f / std::sqrt(float(K));
      }
      for (int c = 0; c < C; ++c) d[c] = w * p[c];
      d[label] -= w;
    }
  }
}

void check_fisher_config(const FisherConfig& cfg) {
  CLB_ASSERT(cfg.batch > 0);
  if (cfg.estimator == FisherEstimator::kSampled && (cfg.draws <= 0 || cfg.draws > kMaxFisherDraws))
    fail_setting("@fisher.draws {}: the sampled estimator takes 1 to {} label draws per sample", cfg.draws,
                 kMaxFisherDraws);
}

int fisher_rows_per_sample(const FisherConfig& cfg, int C) {
  return cfg.estimator == FisherEstimator::kExact ? C : cfg.estimator == FisherEstimator::kSampled ? cfg.draws : 1;
}

int fisher_pass_samples(const FisherConfig& cfg, int K) {
  constexpr int kMaxPassRows = 1 << 16;  // K stacked delta rows per sample: bound a pass's buffers
  return cfg.estimator == FisherEstimator::kBatch ? cfg.batch : std::max(1, std::min(cfg.batch, kMaxPassRows / K));
}

void backprop_and_accumulate(Backend& be, const ModelView& m, const Batch& b, const PassBuffers& ws, int K,
                             float scale, float* F, ImportanceOperands ops) {
  backprop_deltas(be, m, b, ws, K);
  const bool absolute = ops == ImportanceOperands::kAbsolute;
  CLB_ASSERT(!absolute || (be.host_memory() && K == 1));
  std::vector<float> root_delta, root_act;  // absolute: sqrt(|operand|), which fisher_diag squares back
  auto root_abs = [](const float* x, size_t n, std::vector<float>& out) {
    out.resize(n);
    for (size_t k = 0; k < n; ++k) out[k] = std::sqrt(std::abs(x[k]));
    return out.data();
  };
  for (int l = 0; l < m.arch->num_layers(); ++l) {
    FisherDiagArgs a;
    a.delta = ws.delta[l + 1];
    a.X = l == 0 ? b.x : ws.act[l];
    if (absolute) {
      a.delta = root_abs(a.delta, size_t(b.B) * m.arch->out(l), root_delta);
      a.X = root_abs(a.X, size_t(b.B) * m.arch->in(l), root_act);
    }
    a.FW = F + m.arch->weight_offset(l);
    a.Fb = F + m.arch->bias_offset(l);
    a.B = b.B, a.n_in = m.arch->in(l), a.n_out = m.arch->out(l);
    a.rows_per_sample = K;
    a.scale = scale;
    be.fisher_diag(a);
  }
}

namespace {

// One Fisher pass over rows [start, start + B) of refs, accumulated into F.
void fisher_rows(Backend& be, const Mlp& m, const std::vector<Task>& tasks, const std::vector<SampleRef>& refs,
                 const FisherConfig& cfg, int64_t start, int B, int K, MlpWorkspace& ws, BatchBuffers& buf, float* F) {
  const int C = m.arch.num_outputs(), L = m.arch.num_layers();
  gather(tasks, Split::kTrain, refs.data() + start, B, C, buf);
  Batch b = buf.batch;
  forward(be, m, b, ws);
  fisher_output_deltas(cfg, start, ws.probs.data(), b.y, b.class_mask, B, C, K, ws.delta[L].data());
  backprop_and_accumulate(be, view(m), b, ws.buffers(), K, float(1.0 / double(refs.size())), F);
}

// Avalanche's estimate for one minibatch: F += (mean gradient)^2 / number of minibatches.
void fisher_batch_mean(Backend& be, const Mlp& m, const std::vector<Task>& tasks, const std::vector<SampleRef>& refs,
                       const FisherConfig& cfg, int64_t start, int B, MlpWorkspace& ws, BatchBuffers& buf,
                       std::vector<float>& g, float* F) {
  const int64_t N = int64_t(refs.size()), P = m.arch.num_params();
  const int64_t num_batches = (N + cfg.batch - 1) / cfg.batch;
  gather(tasks, Split::kTrain, refs.data() + start, B, m.arch.num_outputs(), buf);
  compute_gradients(be, m, buf.batch, ws, g.data());
  const float w = float(1.0 / double(num_batches));
  for (int64_t k = 0; k < P; ++k) F[k] += w * g[k] * g[k];
}

}  // namespace

std::vector<float> compute_fisher(Backend& be, const Mlp& m, const std::vector<Task>& tasks,
                                  const std::vector<SampleRef>& refs, const FisherConfig& cfg,
                                  FisherStats* stats) {
  if (refs.empty()) fail("Fisher: no samples to compute it on (is the task's training set empty?)");
  check_fisher_config(cfg);
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t N = int64_t(refs.size()), P = m.arch.num_params();
  const int C = m.arch.num_outputs();
  const int K = fisher_rows_per_sample(cfg, C);
  FisherConfig pass_cfg = cfg;
  pass_cfg.batch = fisher_pass_samples(cfg, K);
  const int64_t passes = (N + pass_cfg.batch - 1) / pass_cfg.batch;
  // Passes are dealt round-robin to threads, each summing into its own buffer; the buffers are
  // added in thread order at the end (data_parallel.h).
  const int S = int(std::clamp<int64_t>(passes, 1, be.max_host_threads()));
  std::vector<std::vector<float>> parts(S, std::vector<float>(size_t(P), 0.0f));
  run_shards(S, [&](int s) {
    MlpWorkspace ws(m.arch, pass_cfg.batch, K);
    BatchBuffers buf;
    std::vector<float> g(cfg.estimator == FisherEstimator::kBatch ? size_t(P) : 0);
    for (int64_t p = s; p < passes; p += S) {
      const int64_t start = p * pass_cfg.batch;
      const int B = int(std::min<int64_t>(pass_cfg.batch, N - start));
      if (cfg.estimator == FisherEstimator::kBatch)
        fisher_batch_mean(be, m, tasks, refs, pass_cfg, start, B, ws, buf, g, parts[s].data());
      else
        fisher_rows(be, m, tasks, refs, pass_cfg, start, B, K, ws, buf, parts[s].data());
    }
  });
  std::vector<float> F(static_cast<size_t>(P));
  sum_partials(parts, F.data(), P);
  if (stats) {
    stats->samples = int64_t(refs.size());
    stats->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double tr = 0.0;
    for (float f : F) tr += f;
    stats->trace = tr;
  }
  return F;
}

}  // namespace clb
