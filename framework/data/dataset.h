#pragma once
// A labelled data set held in memory: features as float32 rows, or as the bytes they came from
// (IDX images: a quarter of the memory), labels as int32.
#include <cstdint>
#include <string>
#include <vector>

namespace clb {

struct Dataset {
  std::string source;          // file or generator it came from, for error messages
  int64_t n = 0;               // number of samples
  int dim = 0;                 // features per sample (rows*cols for images)
  int rows = 0, cols = 0;      // image geometry, 0 when not an image
  int num_classes = 0;         // labels lie in [0, num_classes)
  // Features, row-major (n, dim), in one of two forms: x for float sources (CSV, generated), or
  // bytes for byte sources (IDX images), where feature = byte / 255.0f. Whatever reads a row
  // (gather, kernels/ops.h's GatherArgs) converts there, so no float copy of the data is ever held.
  std::vector<float> x;
  std::vector<uint8_t> bytes;
  std::vector<int32_t> y;      // (n)
  // CSV with a task column (csv_loader.h): each row's task, an index into group_names (the
  // column's values in order of first appearance); both empty otherwise.
  std::vector<int32_t> group;
  std::vector<std::string> group_names;

  bool holds_bytes() const { return !bytes.empty(); }
  const float* row(int64_t i) const { return x.data() + i * dim; }  // float form only
  static float byte_feature(uint8_t v) { return float(v) / 255.0f; }
  // Row i's features as floats.
  void read_row(int64_t i, float* dst) const {
    if (holds_bytes())
      for (int j = 0; j < dim; ++j) dst[j] = byte_feature(bytes[size_t(i * dim + j)]);
    else
      for (int j = 0; j < dim; ++j) dst[j] = x[size_t(i * dim + j)];
  }
  // Bytes of the features held (either form).
  int64_t feature_bytes() const { return int64_t(x.size() * sizeof(float) + bytes.size()); }
};

}  // namespace clb
