#pragma once
// A labelled data set held in memory: features as float32 rows, as the bytes they came from (IDX
// images: a quarter of the memory), or made on demand (generated data), labels as int32.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace clb {

// How a generated data set makes its features, (n, dim) floats, the same values on every call.
struct FeatureGenerator {
  std::function<void(std::vector<float>& x)> make;
};

struct Dataset {
  std::string source;          // file or generator it came from, for error messages
  int64_t n = 0;               // number of samples
  int dim = 0;                 // features per sample (rows*cols for images)
  int rows = 0, cols = 0;      // image geometry, 0 when not an image
  int num_classes = 0;         // labels lie in [0, num_classes)
  // Features, row-major (n, dim), in one of three forms:
  //   x          float sources (CSV);
  //   bytes      byte sources (IDX images), feature = byte / 255.0f (cpu::byte_features);
  //   generated  generated sources (the synthetic and recurring scenarios): made when read and kept
  //              in a process-wide cache bounded in bytes (FloatFeatures), so a sequence of many
  //              tasks holds the features of the ones in use, not of all.
  // Whatever reads a row (gather, kernels/ops.h's GatherArgs) converts there, so no float copy
  // of byte data is ever held.
  std::vector<float> x;
  std::vector<uint8_t> bytes;
  std::shared_ptr<const FeatureGenerator> generated;
  std::vector<int32_t> y;      // (n)
  // CSV with a task column (csv_loader.h): each row's task, an index into group_names (the
  // column's values in order of first appearance); both empty otherwise.
  std::vector<int32_t> group;
  std::vector<std::string> group_names;

  bool holds_bytes() const { return !bytes.empty(); }
  const float* row(int64_t i) const { return x.data() + i * dim; }  // x form only
  // Row i's features as floats (any form).
  void read_row(int64_t i, float* dst) const;
  // The same data set with its features in x (generated ones made), for code that edits them.
  Dataset with_float_features() const;
  // Bytes of the features it holds itself (a generated one's live in the cache).
  int64_t feature_bytes() const { return int64_t(x.size() * sizeof(float) + bytes.size()); }
};

// A float data set's features for as long as this lives: its x, or its generated features from
// the cache (made on a miss; held here even if the cache drops them meanwhile). Not for byte data.
class FloatFeatures {
 public:
  explicit FloatFeatures(const Dataset& d);
  const float* data() const { return base_; }
  const float* row(int64_t i) const { return base_ + i * dim_; }

 private:
  std::shared_ptr<const std::vector<float>> held_;
  const float* base_ = nullptr;
  int64_t dim_ = 0;
};

// The generated-feature cache's bound in bytes (default 256 MiB; at least the data set in use is
// always kept) and what it holds now.
void set_generated_cache_budget(int64_t bytes);
int64_t generated_cache_budget();
int64_t generated_cache_bytes();

}  // namespace clb
