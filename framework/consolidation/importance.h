#pragma once
// Parameter importances beside the Fisher (framework/consolidation/fisher.h), for the strategies that weigh
// their quadratic penalty by them (docs/DESIGN.md §3):
//   MAS (Aljundi et al., ECCV 2018): Omega_k = (1/N) sum_i |d ||z_L(x_i)||^2 / d theta_k|, z_L the
//        logits (allowed classes only under a class mask). No labels needed.
//   SI (Zenke et al., ICML 2017): Omega_k = omega_k / (Delta_k^2 + xi), omega_k = -sum over the
//        task's steps of g_k * (change of theta_k), Delta_k = theta_k(end) - theta_k(start); the
//        engine keeps omega (Engine::take_path_integral).
#include <vector>

#include "framework/backend/backend.h"
#include "framework/model/mlp.h"
#include "framework/data/task.h"

namespace clb {

// MAS on the host (any Backend whose memory is host memory: the CPU). The per-sample gradient of
// W_l is delta_i a_i^T with delta_L = 2 z_L, so sum_i |g_i| = |Delta_l|^T |A_{l-1}|: the Fisher's
// squared-operand GEMM with absolute values, computed by handing fisher_diag (which squares what
// it loads) the square roots of the absolute operands.
std::vector<float> mas_importance(Backend& be, const Mlp& m, const std::vector<Task>& tasks,
                                  const std::vector<SampleRef>& refs, int batch = 256);

constexpr float kSiDamping = 0.1f;  // xi: keeps Omega finite where a parameter barely moved
// Omega = omega / ((theta_end - theta_start)^2 + xi), elementwise.
std::vector<float> si_importance(const std::vector<float>& omega, const std::vector<float>& theta_start,
                                 const std::vector<float>& theta_end, float xi = kSiDamping);

}  // namespace clb
