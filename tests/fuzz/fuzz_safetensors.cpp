// libFuzzer target: arbitrary bytes as a safetensors file, as a model file and as a run's checkpoint
// (clbench run --resume) must end in a clb::Error or a valid result, never a crash (build with -DCLB_FUZZ=ON and clang; README "Tests").
#include <cstdint>
#include <string>

#include "framework/core/error.h"
#include "framework/io/checkpoint.h"
#include "framework/io/run_checkpoint.h"
#include "framework/io/safetensors.h"
#include "tests/fuzz/fuzz_temp_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = clb::fuzz::temp_file("st", ".safetensors");
  clb::fuzz::write_file(path, data, size);
  try {
    clb::read_safetensors(path);
  } catch (const clb::Error&) {
  }
  try {
    clb::load_model(path);
  } catch (const clb::Error&) {
  }
  try {
    clb::read_checkpoint(path);
  } catch (const clb::Error&) {
  }
  return 0;
}
