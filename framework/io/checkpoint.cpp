#include "framework/io/checkpoint.h"

#include <cmath>
#include <cstring>
#include <utility>

#include <fmt/ranges.h>

#include "framework/core/error.h"
#include "framework/io/safetensors.h"

namespace clb {

namespace {
std::string weight_name(int l) { return "layers." + std::to_string(l) + ".weight"; }
std::string bias_name(int l) { return "layers." + std::to_string(l) + ".bias"; }
constexpr int64_t kMaxWidth = 1 << 20;  // MlpArch::parse's limit
}  // namespace

void save_flat_params(const std::string& path, const MlpArch& arch, const std::vector<float>& flat,
                      std::map<std::string, std::string> metadata) {
  CLB_ASSERT(int64_t(flat.size()) == arch.num_params());
  TensorFile f;
  metadata["arch"] = arch.str();
  metadata["format"] = "pt";
  f.metadata = std::move(metadata);
  for (int l = 0; l < arch.num_layers(); ++l) {
    const float* w = flat.data() + arch.weight_offset(l);
    const float* b = flat.data() + arch.bias_offset(l);
    f.tensors.push_back({weight_name(l), {arch.out(l), arch.in(l)},
                         std::vector<float>(w, w + int64_t(arch.out(l)) * arch.in(l))});
    f.tensors.push_back({bias_name(l), {arch.out(l)}, std::vector<float>(b, b + arch.out(l))});
  }
  write_safetensors(path, f);
}

namespace {

// "layers.{i}.weight" or "layers.{i}.bias" (i in decimal, no leading zero): i, or -1 for any other name.
int layer_index(const std::string& name, bool* weight) {
  const std::string prefix = "layers.";
  if (name.rfind(prefix, 0) != 0) return -1;
  const size_t dot = name.find('.', prefix.size());
  if (dot == std::string::npos) return -1;
  const std::string digits = name.substr(prefix.size(), dot - prefix.size()), kind = name.substr(dot + 1);
  if (digits.empty() || digits.size() > 6 || digits.find_first_not_of("0123456789") != std::string::npos ||
      (digits.size() > 1 && digits[0] == '0') || (kind != "weight" && kind != "bias"))
    return -1;
  *weight = kind == "weight";
  return std::stoi(digits);
}

}  // namespace

Mlp load_model(const std::string& path, const MlpArch* expected) {
  const TensorFile f = read_safetensors(path);
  // Every tensor must be a layer's weight or bias, and the layers must run 0, 1, ..., L-1 without a
  // gap: a model with layers.0 and layers.2 is not a two-layer model.
  std::vector<const NamedTensor*> weights, biases;
  for (const NamedTensor& t : f.tensors) {
    bool is_weight = false;
    const int l = layer_index(t.name, &is_weight);
    if (l < 0)
      fail("{}: tensor '{}' is not a layer of an MLP; clbench models hold only layers.{{i}}.weight and "
           "layers.{{i}}.bias",
           path, t.name);
    auto& slot = is_weight ? weights : biases;
    if (size_t(l) >= slot.size()) slot.resize(size_t(l) + 1, nullptr);
    slot[size_t(l)] = &t;  // read_safetensors rejects a name given twice
  }
  if (weights.empty() || !weights[0])
    fail("{}: no 'layers.0.weight' tensor; clbench models name their tensors layers.{{i}}.weight / "
         "layers.{{i}}.bias",
         path);
  const int L = int(std::max(weights.size(), biases.size()));
  weights.resize(size_t(L), nullptr), biases.resize(size_t(L), nullptr);
  MlpArch arch;
  for (int l = 0; l < L; ++l) {
    for (auto [t, name] : {std::pair{weights[size_t(l)], weight_name(l)}, std::pair{biases[size_t(l)], bias_name(l)}})
      if (!t)
        fail("{}: tensor '{}' is missing but the file has layers up to layers.{}; the layers must be numbered 0 "
             "to {} without a gap",
             path, name, L - 1, L - 1);
    const NamedTensor& w = *weights[size_t(l)];
    if (w.shape.size() != 2 || w.shape[0] <= 0 || w.shape[1] <= 0 || w.shape[0] > kMaxWidth || w.shape[1] > kMaxWidth)
      fail("{}: tensor '{}' must be a non-empty (out, in) matrix of at most {} by {}, found shape [{}]", path, w.name,
           kMaxWidth, kMaxWidth, fmt::join(w.shape, ", "));
    if (l == 0) arch.widths.push_back(int(w.shape[1]));
    if (w.shape[1] != arch.widths.back())
      fail("{}: tensor '{}' has {} inputs but layer {} has {} outputs; the layers do not chain", path, w.name,
           w.shape[1], l - 1, arch.widths.back());
    arch.widths.push_back(int(w.shape[0]));
    const NamedTensor& b = *biases[size_t(l)];
    if (b.shape != std::vector<int64_t>{w.shape[0]})
      fail("{}: tensor '{}' must have shape [{}] to match '{}'", path, b.name, w.shape[0], w.name);
  }
  // The file's own record of its arch (save_flat_params writes it) must agree with its tensors.
  if (auto it = f.metadata.find("arch"); it != f.metadata.end() && it->second != arch.str())
    fail("{}: the metadata says arch {} but the tensors make {}; the file was edited or is corrupt", path, it->second,
         arch.str());
  if (expected && expected->widths != arch.widths)
    fail_setting("{}: the model is {} but @arch {} was given; give @arch {} or the model that matches", path,
                 arch.str(), expected->str(), arch.str());
  Mlp m;
  m.arch = arch;
  m.params.resize(size_t(arch.num_params()));
  for (int l = 0; l < arch.num_layers(); ++l) {
    const auto& w = weights[size_t(l)]->data;
    const auto& b = biases[size_t(l)]->data;
    std::memcpy(m.W(l), w.data(), w.size() * sizeof(float));
    std::memcpy(m.b(l), b.data(), b.size() * sizeof(float));
  }
  for (float v : m.params)
    if (!std::isfinite(v)) fail("{}: the model holds NaN or infinite weights; it cannot be evaluated", path);
  return m;
}

}  // namespace clb
