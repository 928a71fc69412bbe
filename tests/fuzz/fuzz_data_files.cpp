// libFuzzer target: arbitrary bytes as an IDX image/label pair (split at the first byte) and as a
// CSV file must end in a clb::Error or a valid data set, never a crash.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "framework/data/csv_loader.h"
#include "framework/core/error.h"
#include "framework/data/idx_loader.h"

namespace {
void write(const std::string& path, const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  std::fwrite(data, 1, size, f);
  std::fclose(f);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string images = "/tmp/clb_fuzz_img_" + std::to_string(getpid());
  static const std::string labels = "/tmp/clb_fuzz_lab_" + std::to_string(getpid());
  if (size < 2) return 0;
  const size_t cut = data[0] % size;
  write(images, data + 1, cut);
  write(labels, data + 1 + cut, size - 1 - cut);
  try {
    clb::load_idx_pair(images, labels);
  } catch (const clb::Error&) {
  }
  try {
    clb::load_csv(images);
  } catch (const clb::Error&) {
  }
  return 0;
}
