#include "framework/core/build_info.h"

#include <unistd.h>

#include <ctime>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include <clb_commit.h>  // generated in the build tree at every build (cmake/commit_header.cmake)

namespace clb {

std::string build_commit() { return CLB_GIT_COMMIT; }

std::string build_description() {
  // CLB_BUILD_* come from CMakeLists.txt (this file's compile definitions).
  std::string s = CLB_BUILD_CUDA[0] ? fmt::format("CUDA {}, sm_{}", CLB_BUILD_CUDA, CLB_BUILD_CUDA_ARCHS) : "CPU only";
  s += fmt::format(", {}", CLB_BUILD_BLAS);
#if defined(__clang__)
  s += fmt::format(", clang {}.{}.{}", __clang_major__, __clang_minor__, __clang_patchlevel__);
#elif defined(__GNUC__)
  s += fmt::format(", g++ {}.{}.{}", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#endif
  return s;
}

std::string machine_description() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::string cpu = "unknown CPU";
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos && colon + 2 <= line.size()) cpu = line.substr(colon + 2);
      break;
    }
  return fmt::format("{}: {} ({} logical cores)", host, cpu, std::thread::hardware_concurrency());
}

std::string utc_timestamp() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json provenance(const std::string& started) {
  return {{"commit", build_commit()},
          {"build", build_description()},
          {"machine", machine_description()},
          {"started", started}};
}

}  // namespace clb
