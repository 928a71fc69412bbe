#pragma once
// Checkpoints in safetensors, laid out as PyTorch's nn.Linear stack: layers.{i}.weight (out, in)
// and layers.{i}.bias (out), i from 0. A Fisher (or anchor) file uses the same names, so it lines
// up with a PyTorch model's named_parameters() after a rename of the prefix.
#include <map>
#include <string>
#include <vector>

#include "framework/model/mlp.h"

namespace clb {

// Splits a flat (num_params) vector into the per-layer tensors and writes them atomically.
void save_flat_params(const std::string& path, const MlpArch& arch, const std::vector<float>& flat,
                      std::map<std::string, std::string> metadata);

// Reads a model file; the architecture comes from the tensor shapes, which must chain
// (layers.{i}.weight is (w[i+1], w[i])), with layers numbered 0, 1, ... without a gap and no other
// tensors. Errors name the file and the tensor. With `expected`, a model of another architecture is
// a clb::SettingError naming both (the setting arch).
Mlp load_model(const std::string& path, const MlpArch* expected = nullptr);

}  // namespace clb
