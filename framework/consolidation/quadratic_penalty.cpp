#include "framework/consolidation/quadratic_penalty.h"

#include <cstddef>

namespace clb {

void QuadraticPenalty::add_separate(const float* F, const float* a) {
  double dc = 0.0;
  for (std::size_t k = 0; k < weight_.size(); ++k) {
    const double s = weight_[k], f = F[k], old = anchor_[k];
    const double total = s + f;
    // With S + F = 0 neither term constrains theta_k; keep the newest anchor.
    const double next = total > 0.0 ? old + f * (double(a[k]) - old) / total : double(a[k]);
    // The constant collects what the quadratic in abar no longer represents:
    // S (abar_old - abar)^2 + F (a - abar)^2 (exact algebra of completing the square).
    dc += s * (old - next) * (old - next) + f * (double(a[k]) - next) * (double(a[k]) - next);
    weight_[k] = float(total);
    anchor_[k] = float(next);
  }
  constant_ += dc;
  ++tasks_;
}

void QuadraticPenalty::add_online(const float* F, const float* a, float gamma) {
  for (std::size_t k = 0; k < weight_.size(); ++k) {
    weight_[k] = gamma * weight_[k] + F[k];
    anchor_[k] = a[k];
  }
  constant_ = 0.0;
  ++tasks_;
}

double QuadraticPenalty::value(const float* theta) const {
  double sum = constant_;
  for (std::size_t k = 0; k < weight_.size(); ++k) {
    const double d = double(theta[k]) - anchor_[k];
    sum += weight_[k] * d * d;
  }
  return 0.5 * sum;
}

void QuadraticPenalty::add_gradient(const float* theta, float lambda, float* grad) const {
  for (std::size_t k = 0; k < weight_.size(); ++k) grad[k] += lambda * weight_[k] * (theta[k] - anchor_[k]);
}

void QuadraticPenalty::save(StateArchive& a, const std::string& key) const {
  a.put_floats(key + ".weight", weight_);
  a.put_floats(key + ".anchor", anchor_);
  a.put_double(key + ".constant", constant_);
  a.put(key + ".tasks", tasks_);
}

void QuadraticPenalty::load(const StateArchive& a, const std::string& key) {
  weight_ = a.floats(key + ".weight", num_params());
  anchor_ = a.floats(key + ".anchor", num_params());
  constant_ = a.get_double(key + ".constant");
  tasks_ = a.get<int>(key + ".tasks");
}

double QuadraticPenalty::trace() const {
  double t = 0.0;
  for (float w : weight_) t += w;
  return t;
}

}  // namespace clb
