#include "framework/io/checkpoint.h"

#include <cmath>
#include <cstring>

#include "framework/core/error.h"
#include "framework/io/safetensors.h"

namespace clb {

namespace {
std::string weight_name(int l) { return "layers." + std::to_string(l) + ".weight"; }
std::string bias_name(int l) { return "layers." + std::to_string(l) + ".bias"; }
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

Mlp load_model(const std::string& path) {
  const TensorFile f = read_safetensors(path);
  MlpArch arch;
  for (int l = 0; f.find(weight_name(l)); ++l) {
    const NamedTensor& w = *f.find(weight_name(l));
    if (w.shape.size() != 2 || w.shape[0] <= 0 || w.shape[1] <= 0)
      fail("{}: tensor '{}' must be a non-empty (out, in) matrix", path, w.name);
    if (l == 0) arch.widths.push_back(int(w.shape[1]));
    if (w.shape[1] != arch.widths.back())
      fail("{}: tensor '{}' has {} inputs but layer {} has {} outputs; the layers do not chain", path, w.name,
           w.shape[1], l - 1, arch.widths.back());
    arch.widths.push_back(int(w.shape[0]));
    const NamedTensor& b = f.get(bias_name(l), path);
    if (b.shape != std::vector<int64_t>{w.shape[0]})
      fail("{}: tensor '{}' must have shape [{}] to match '{}'", path, b.name, w.shape[0], w.name);
  }
  if (arch.widths.empty())
    fail("{}: no 'layers.0.weight' tensor; clbench models name their tensors layers.{{i}}.weight / "
         "layers.{{i}}.bias",
         path);
  Mlp m;
  m.arch = arch;
  m.params.resize(size_t(arch.num_params()));
  for (int l = 0; l < arch.num_layers(); ++l) {
    const auto& w = f.get(weight_name(l), path).data;
    const auto& b = f.get(bias_name(l), path).data;
    std::memcpy(m.W(l), w.data(), w.size() * sizeof(float));
    std::memcpy(m.b(l), b.data(), b.size() * sizeof(float));
  }
  for (float v : m.params)
    if (!std::isfinite(v)) fail("{}: the model holds NaN or infinite weights; it cannot be evaluated", path);
  return m;
}

}  // namespace clb
