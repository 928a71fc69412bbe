#include "framework/model/mlp.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "framework/core/error.h"
#include "framework/core/rng.h"

namespace clb {

MlpArch MlpArch::parse(const std::string& text) {
  MlpArch a;
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, '-')) {
    size_t used = 0;
    int w = 0;
    try {
      w = std::stoi(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != part.size() || part.empty() || w <= 0 || w > (1 << 20))
      fail_setting("@arch '{}': '{}' is not a positive layer width; use widths joined by '-', e.g. 784-400-400-10",
           text, part);
    a.widths.push_back(w);
  }
  if (a.widths.size() < 2)
    fail_setting("@arch '{}': need at least an input and an output width, e.g. 784-400-400-10", text);
  if (a.widths.back() < 2) fail_setting("@arch '{}': a classifier needs at least 2 outputs", text);
  return a;
}

std::string MlpArch::str() const {
  std::string s;
  for (size_t i = 0; i < widths.size(); ++i) {
    if (i) s += '-';
    s += std::to_string(widths[i]);
  }
  return s;
}

int MlpArch::max_width() const { return *std::max_element(widths.begin(), widths.end()); }

int64_t MlpArch::weight_offset(int l) const {
  int64_t off = 0;
  for (int k = 0; k < l; ++k) off += int64_t(in(k)) * out(k) + out(k);
  return off;
}

Mlp::Mlp(const MlpArch& a, uint64_t seed) : arch(a), params(size_t(a.num_params())) {
  for (int l = 0; l < arch.num_layers(); ++l) {
    Rng rng = Rng::derive(seed, 0x1417, uint64_t(l));
    const float bound = 1.0f / std::sqrt(float(arch.in(l)));
    float* w = W(l);
    for (int64_t i = 0; i < int64_t(arch.in(l)) * arch.out(l); ++i) w[i] = rng.uniform(-bound, bound);
    for (int o = 0; o < arch.out(l); ++o) b(l)[o] = rng.uniform(-bound, bound);
  }
}

}  // namespace clb
