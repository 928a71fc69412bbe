// libFuzzer target: arbitrary bytes as a safetensors file and as a model checkpoint must end in a
// clb::Error or a valid result, never a crash (build with -DCLB_FUZZ=ON and clang; README "Tests").
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "framework/io/checkpoint.h"
#include "framework/core/error.h"
#include "framework/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/clb_fuzz_st_" + std::to_string(getpid()) + ".safetensors";
  FILE* f = std::fopen(path.c_str(), "wb");
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    clb::read_safetensors(path);
  } catch (const clb::Error&) {
  }
  try {
    clb::load_model(path);
  } catch (const clb::Error&) {
  }
  return 0;
}
