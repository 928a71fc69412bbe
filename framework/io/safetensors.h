#pragma once
// Hugging Face safetensors files, float32 only: an 8-byte little-endian u64 header length N, N bytes
// of UTF-8 JSON ({"__metadata__": {str: str}, name: {"dtype": "F32", "shape": [...],
// "data_offsets": [begin, end]}, ...}), then the tensor bytes (little-endian, row-major), with
// offsets relative to the first byte after the header. Files written here pad the header with
// spaces so the data starts 8-byte aligned, and load with the Python safetensors package / PyTorch.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace clb {

struct NamedTensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> data;  // row-major, size == product(shape)
};

struct TensorFile {
  std::vector<NamedTensor> tensors;             // in the order written (read: by data offset)
  std::map<std::string, std::string> metadata;  // safetensors "__metadata__" (string -> string)

  const NamedTensor* find(const std::string& name) const;  // nullptr if absent
  // Throws clb::Error naming the file and the tensor if absent.
  const NamedTensor& get(const std::string& name, const std::string& path_for_errors) const;
};

// Writes atomically (write_file_atomic). Tensors are stored in the given order. data.size() !=
// product(shape), a negative dim, a duplicate name or the name "__metadata__" is an internal error.
void write_safetensors(const std::string& path, const TensorFile& f);

// Reads and validates; any problem is a one-line clb::Error naming the file. Only dtype F32 is
// accepted. Tensors are returned sorted by data offset.
TensorFile read_safetensors(const std::string& path);

}  // namespace clb
