#pragma once
// The model: an MLP whose parameters live in ONE flat float vector (layer 0 W, layer 0 b, layer 1
// W, ...), so optimizer state, Fisher and anchors are flat vectors of the same length and the
// fused penalty + optimizer update is a single pass. W_l is (out, in) as in PyTorch's nn.Linear.
#include <cstdint>
#include <string>
#include <vector>

namespace clb {

struct MlpArch {
  std::vector<int> widths;  // input, hidden..., output: "784-400-400-10"

  // Parses "784-400-400-10"; errors name the setting (arch) and the expected form.
  static MlpArch parse(const std::string& text);
  std::string str() const;
  int num_layers() const { return int(widths.size()) - 1; }
  int in(int l) const { return widths[l]; }
  int out(int l) const { return widths[l + 1]; }
  int input_dim() const { return widths.front(); }
  int num_outputs() const { return widths.back(); }
  int max_width() const;
  int64_t weight_offset(int l) const;
  int64_t bias_offset(int l) const { return weight_offset(l) + int64_t(in(l)) * out(l); }
  int64_t num_params() const { return weight_offset(num_layers()); }
};

struct Mlp {
  MlpArch arch;
  std::vector<float> params;  // (num_params), flat

  Mlp() = default;
  // PyTorch's default nn.Linear init: W, b ~ U(-1/sqrt(in), 1/sqrt(in)), from the seed.
  Mlp(const MlpArch& arch, uint64_t seed);
  float* W(int l) { return params.data() + arch.weight_offset(l); }
  const float* W(int l) const { return params.data() + arch.weight_offset(l); }
  float* b(int l) { return params.data() + arch.bias_offset(l); }
  const float* b(int l) const { return params.data() + arch.bias_offset(l); }
};

}  // namespace clb
