#pragma once
// One-line errors for flag values that parse but make no sense (a zero batch, a NaN rate).
#include <cmath>
#include <string>

#include "framework/core/error.h"

namespace clb::cli {

template <typename T>
void check_positive(T v, const char* flag) {
  if (!(v > 0)) fail("{} {}: must be positive", flag, v);
}
template <typename T>
void check_non_negative(T v, const char* flag) {
  if (!(v >= 0)) fail("{} {}: must be >= 0", flag, v);
}
template <typename T>
void check_in_range(T v, T lo, T hi, const char* flag) {
  if (!(v >= lo && v <= hi)) fail("{} {}: must lie between {} and {}", flag, v, lo, hi);
}
inline void check_finite_positive(double v, const char* flag) {
  if (!std::isfinite(v) || !(v > 0)) fail("{} {}: must be a finite positive number", flag, v);
}
inline void check_finite_non_negative(double v, const char* flag) {
  if (!std::isfinite(v) || !(v >= 0)) fail("{} {}: must be a finite number >= 0", flag, v);
}

}  // namespace clb::cli
