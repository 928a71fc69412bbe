#pragma once
// A labelled data set held in memory: features as float32 rows, labels as int32.
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
  std::vector<float> x;        // (n, dim), row-major; images as pixel/255
  std::vector<int32_t> y;      // (n)
  // CSV with a task column (csv_loader.h): each row's task, an index into group_names (the
  // column's values in order of first appearance); both empty otherwise.
  std::vector<int32_t> group;
  std::vector<std::string> group_names;

  const float* row(int64_t i) const { return x.data() + i * dim; }
};

}  // namespace clb
