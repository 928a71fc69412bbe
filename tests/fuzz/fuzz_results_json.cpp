// libFuzzer target: arbitrary bytes as the results JSON `clbench report` reads (clbench-results/1):
// the bounded parser, the document's reader and the page and plots rendered from it must end in a
// clb::Error or a page, never a crash, a stack overflow or a stray exception (type_error, stod).
#include <cstdint>
#include <string>

#include "benchmarks/suite/bench_report.h"
#include "benchmarks/suite/bench_results.h"
#include "framework/core/bounded_json.h"
#include "framework/core/error.h"
#include "tests/fuzz/fuzz_temp_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = clb::fuzz::temp_file("results", ".json");
  clb::fuzz::write_file(path, data, size);
  try {
    // The parser alone, under a small limit too.
    clb::parse_json_bounded(std::string(reinterpret_cast<const char*>(data), size), path, {.max_values = 100});
  } catch (const clb::Error&) {
  }
  try {
    const clb::SuiteResults s = clb::load_results_document(path);
    clb::render_report(s, {});
    clb::report_plots(s);
    clb::results_document(s).dump();
  } catch (const clb::Error&) {
  }
  return 0;
}
