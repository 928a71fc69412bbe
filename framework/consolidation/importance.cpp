#include "framework/consolidation/importance.h"

#include <cmath>

#include "framework/core/error.h"
#include "framework/model/mlp_passes.h"

namespace clb {

std::vector<float> mas_importance(Backend& be, const Mlp& m, const std::vector<Task>& tasks,
                                  const std::vector<SampleRef>& refs, int batch) {
  if (refs.empty()) fail("MAS: no samples to compute the importance on (is the task's training set empty?)");
  CLB_ASSERT(be.host_memory() && batch > 0);
  const int L = m.arch.num_layers(), C = m.arch.num_outputs();
  std::vector<float> omega(size_t(m.arch.num_params()), 0.0f);
  MlpWorkspace ws(m.arch, batch);
  BatchBuffers buf;
  std::vector<float> root_delta, root_act;
  const float scale = float(1.0 / double(refs.size()));
  for (size_t start = 0; start < refs.size(); start += size_t(batch)) {
    const int B = int(std::min(refs.size() - start, size_t(batch)));
    gather(tasks, Split::kTrain, refs.data() + start, B, C, buf);
    Batch b = buf.batch;
    b.y = nullptr;  // no loss: the output delta is d ||z||^2 / dz = 2 z
    forward(be, m, b, ws);
    const std::vector<float>& z = ws.act[size_t(L)];
    std::vector<float>& delta = ws.delta[size_t(L)];
    for (int i = 0; i < B; ++i)
      for (int c = 0; c < C; ++c) {
        const size_t k = size_t(i) * C + size_t(c);
        delta[k] = b.class_mask && !b.class_mask[k] ? 0.0f : 2.0f * z[k];
      }
    backprop_deltas(be, m, b, ws, 1);
    for (int l = 0; l < L; ++l) {
      const int in = m.arch.in(l), out = m.arch.out(l);
      const float* a = l == 0 ? b.x : ws.act[size_t(l)].data();
      root_delta.resize(size_t(B) * out), root_act.resize(size_t(B) * in);
      for (size_t k = 0; k < root_delta.size(); ++k) root_delta[k] = std::sqrt(std::abs(ws.delta[size_t(l + 1)][k]));
      for (size_t k = 0; k < root_act.size(); ++k) root_act[k] = std::sqrt(std::abs(a[k]));
      FisherDiagArgs f;
      f.delta = root_delta.data(), f.X = root_act.data();
      f.FW = omega.data() + m.arch.weight_offset(l), f.Fb = omega.data() + m.arch.bias_offset(l);
      f.B = B, f.n_in = in, f.n_out = out, f.scale = scale;
      be.fisher_diag(f);
    }
  }
  return omega;
}

std::vector<float> si_importance(const std::vector<float>& omega, const std::vector<float>& theta_start,
                                 const std::vector<float>& theta_end, float xi) {
  CLB_ASSERT(omega.size() == theta_start.size() && omega.size() == theta_end.size() && xi > 0);
  std::vector<float> out(omega.size());
  for (size_t k = 0; k < out.size(); ++k) {
    const float d = theta_end[k] - theta_start[k];
    // omega can be slightly negative (a step against the gradient, e.g. from momentum); the
    // penalty weight may not be.
    out[k] = std::max(omega[k], 0.0f) / (d * d + xi);
  }
  return out;
}

}  // namespace clb
