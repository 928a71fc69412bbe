// libFuzzer target: arbitrary bytes as a clbench sweep config (TOML): read and checked, and every
// selection cell's config built by run's flag parser, as `clbench sweep --dry-run` does. Each input
// must end in a checked list of cells or a clb::Error (a TOML syntax error, an unknown key, a bad
// flag or value, a grid too large), never a crash, a hang or a stray exception.
#include <cstdint>
#include <string>

#include "framework/cli/sweep_cells.h"
#include "framework/cli/sweep_spec.h"
#include "framework/core/error.h"
#include "tests/fuzz/fuzz_temp_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 8192) return 0;  // configs are short; long ones only slow the search
  static const std::string path = clb::fuzz::temp_file("sweep", ".toml");
  clb::fuzz::write_file(path, data, size);
  try {
    const clb::cli::SweepSpec spec = clb::cli::read_sweep_spec(path);
    clb::cli::selection_cells(spec, 1);
  } catch (const clb::Error&) {
  }
  return 0;
}
