#pragma once
// GEM's projection (Lopez-Paz & Ranzato, NeurIPS 2017): a step may not increase, to first order, the
// loss on any earlier task's memory. With g the step's gradient and g_1..g_K the memories' gradients
// (rows of G), a g with some g . g_k < 0 is replaced by the closest z with z . g_k >= 0 for every k.
// As in the reference implementation (project2cone2) the projection is solved through its dual,
// which has K variables instead of n:
//   min_v 1/2 v^T (G G^T + eps I) v + (G g)^T v   subject to v >= margin,   z = g + G^T v
// margin >= 0 is GEM's "memory strength" gamma: it pushes z further into the cone, toward positive
// backward transfer. A-GEM (agem_projection.h) is the K = 1 case with the memories averaged.
#include <cstdint>
#include <vector>

namespace clb {

// Result of the non-negative QP.
struct NonnegQpResult {
  std::vector<double> u;
  int iterations = 0;
};

// min 1/2 u^T P u + c^T u subject to u >= 0, P (K x K, row-major, symmetric positive definite).
// Exact active-set method (Lawson-Hanson style: grow the free set by the most negative gradient
// component, solve the equality-constrained subproblem on the free set by Cholesky, step back to the
// boundary when a free variable would go negative). KKT tolerance tol (relative to the scale of P
// and c). Throws clb::Error when it does not converge within max_iterations (0: 50*K+100) or when
// the free block is not positive definite.
NonnegQpResult solve_nonneg_qp(const std::vector<double>& P, const std::vector<double>& c, int K,
                               double tol = 1e-10, int max_iterations = 0);

// Projects g (n floats) in place; returns whether it had to (false when g . g_k >= 0 for every k,
// g then untouched). Dot products and the QP in double. refs: K pointers to n floats each.
// margin >= 0.
bool gem_project(float* g, const std::vector<const float*>& refs, int64_t n, float margin);

}  // namespace clb
