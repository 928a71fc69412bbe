#pragma once
// One-line errors for flag values that parse but make no sense (a zero batch, a NaN rate), and
// the splitting of list-valued flags.
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "framework/core/error.h"

namespace clb::cli {

// "naive,ewc" -> {"naive", "ewc"}: a comma-separated flag value (--strategy, --lambda, a sweep's
// run.strategy), empty parts dropped.
inline std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string part; std::getline(ss, part, ',');)
    if (!part.empty()) out.push_back(part);
  return out;
}

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

// Every integer flag of every subcommand (CLI11 types INT and UINT) takes a whole number >= 0 in
// decimal, in range. CLI11 2.1 reads integers with strtoull/strtoll: "-1" into a uint64 became
// 2^64-1, an overflowing number saturated silently, "010" was octal 8. Call once, after every
// subcommand has registered its flags; no clbench integer flag takes a negative value.
inline void check_integer_flags(CLI::App& app) {
  const CLI::Validator whole_number(
      [](std::string& text) -> std::string {
        uint64_t v = 0;
        const char* end = text.data() + text.size();
        const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
        if (!digits) return "'" + text + "' is not a whole number >= 0 (digits only, in decimal)";
        const auto [ptr, ec] = std::from_chars(text.data(), end, v);
        if (ec != std::errc() || ptr != end || v > uint64_t(std::numeric_limits<int64_t>::max()))
          return text + " is out of range (at most " + std::to_string(std::numeric_limits<int64_t>::max()) + ")";
        return "";
      },
      "", "whole number");
  for (CLI::App* sub : app.get_subcommands({})) {
    for (CLI::Option* opt : sub->get_options()) {
      const std::string type = opt->get_type_name();
      if (type == "INT" || type == "UINT") opt->check(whole_number);
    }
    check_integer_flags(*sub);
  }
}

}  // namespace clb::cli
