#include "framework/consolidation/importance.h"

#include <cmath>

#include "framework/consolidation/fisher.h"
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
    backprop_and_accumulate(be, view(m), b, ws.buffers(), 1, scale, omega.data(), ImportanceOperands::kAbsolute);
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
