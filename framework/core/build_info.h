#pragma once
// Where a result came from (results.json's config block): the commit and build of this binary,
// the machine it runs on, and when the run started.
#include <string>

#include <nlohmann/json.hpp>

namespace clb {

// The commit this binary was built from ("+modified" when tracked files differed), or "unknown".
std::string build_commit();
// "CUDA 13.0, sm_90, OpenBLAS, g++ 12.2.0" or "CPU only, OpenBLAS, g++ 12.2.0".
std::string build_description();
// Host name, CPU model and logical cores, e.g. "box1: AMD EPYC 7B13 (2 logical cores)".
std::string machine_description();
// Now, UTC, ISO 8601 to the second.
std::string utc_timestamp();

// {"commit", "build", "machine"} and {"started": started}: provenance fields of a config block,
// which clbench run --config ignores.
nlohmann::json provenance(const std::string& started);

}  // namespace clb
