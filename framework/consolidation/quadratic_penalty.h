#pragma once
// The EWC family's quadratic penalty in O(P) memory (README, "The math").
//
// Separate penalties over tasks t, sum_t (lambda/2) sum_k F_tk (theta_k - a_tk)^2, equal
//   (lambda/2) [ sum_k S_k (theta_k - abar_k)^2 + c ],   S = sum_t F_t,  abar = (sum_t F_t a_t) / S,
// with c a scalar that does not depend on theta. The textbook two-vector form, S o theta -
// sum_t F_t o a_t, subtracts two large, nearly equal products when theta is near the anchors,
// each rounded in float32, and needs S o theta formed every step. Keeping the F-weighted mean
// anchor abar instead makes the gradient S o (theta - abar): theta - abar is exact in float32
// when the two are close (Sterbenz), so the only error left is abar's own rounding, eps |abar|
// per added task -- what single-task EWC makes by storing its anchor in float32. abar is
// updated as abar += F_t (a_t - abar) / (S + F_t), in double, and c accumulates in double.
// (A further digit would need a second float per parameter, 24 instead of 20 bytes a step.)
//
// Online EWC keeps S = gamma S + F_t and anchors at the latest parameters; L2 is F = 1.
#include <cstdint>
#include <string>
#include <vector>

#include "framework/core/state_archive.h"

namespace clb {

class QuadraticPenalty {
 public:
  explicit QuadraticPenalty(int64_t num_params = 0) : weight_(num_params, 0.0f), anchor_(num_params, 0.0f) {}

  // Adds one task's separate penalty term F o (theta - anchor)^2.
  void add_separate(const float* fisher, const float* anchor);
  // Online EWC: S <- gamma S + F, anchor <- anchor (the previous anchors' terms are folded away).
  void add_online(const float* fisher, const float* anchor, float gamma);

  // (1/2) sum_k S_k (theta_k - abar_k)^2 + c/2, in double: multiply by lambda for the penalty.
  double value(const float* theta) const;
  // grad += lambda * S o (theta - abar), for tests; training fuses this into the optimizer update.
  void add_gradient(const float* theta, float lambda, float* grad) const;

  bool empty() const { return tasks_ == 0; }
  int tasks() const { return tasks_; }
  const float* weight() const { return weight_.data(); }  // S
  const float* anchor() const { return anchor_.data(); }  // abar
  int64_t num_params() const { return int64_t(weight_.size()); }
  int64_t bytes_held() const { return int64_t(weight_.size() + anchor_.size()) * int64_t(sizeof(float)); }
  double trace() const;
  // Its state under `key` in a checkpoint, and back (the same number of parameters).
  void save(StateArchive& a, const std::string& key) const;
  void load(const StateArchive& a, const std::string& key);

 private:
  std::vector<float> weight_, anchor_;
  double constant_ = 0.0;
  int tasks_ = 0;
};

}  // namespace clb
