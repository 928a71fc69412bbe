#pragma once
// A fuzz target's scratch file: $TMPDIR/clb_fuzz_<tag>_<pid><suffix> (TMPDIR unset: /tmp), removed when
// the process exits, so a fuzzing session leaves no files behind.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace clb::fuzz {

inline std::vector<std::string>& temp_files() {
  static std::vector<std::string> files;
  return files;
}

inline std::string temp_file(const std::string& tag, const std::string& suffix = "") {
  const char* tmp = std::getenv("TMPDIR");
  const std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/clb_fuzz_" + tag + "_" +
                           std::to_string(getpid()) + suffix;
  if (temp_files().empty())
    std::atexit([] {
      for (const std::string& f : temp_files()) std::remove(f.c_str());
    });
  temp_files().push_back(path);
  return path;
}

inline void write_file(const std::string& path, const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();  // a broken fuzzing setup, not a finding
  if (size) std::fwrite(data, 1, size, f);
  std::fclose(f);
}

}  // namespace clb::fuzz
