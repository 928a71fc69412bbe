// libFuzzer target: arbitrary bytes as an IDX image/label pair (split at the first byte) and as a
// CSV file, read plain and with a task column, must end in a clb::Error or a valid data set, never a
// crash.
#include <cstdint>
#include <string>

#include "framework/core/error.h"
#include "framework/data/csv_loader.h"
#include "framework/data/idx_loader.h"
#include "tests/fuzz/fuzz_temp_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string images = clb::fuzz::temp_file("img");
  static const std::string labels = clb::fuzz::temp_file("lab");
  if (size < 2) return 0;
  const size_t cut = data[0] % size;
  clb::fuzz::write_file(images, data + 1, cut);
  clb::fuzz::write_file(labels, data + 1 + cut, size - 1 - cut);
  try {
    clb::load_idx_pair(images, labels);
  } catch (const clb::Error&) {
  }
  try {
    clb::load_csv(images);
  } catch (const clb::Error&) {
  }
  try {
    const clb::Dataset d = clb::load_csv(images, "t");  // a header with a column named t, any text in it
    if (d.group.size() != size_t(d.n)) __builtin_trap();
    for (int32_t g : d.group)
      if (g < 0 || size_t(g) >= d.group_names.size()) __builtin_trap();
  } catch (const clb::Error&) {
  }
  return 0;
}
