#include "framework/core/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "framework/core/error.h"

namespace clb {

namespace {

struct TempFile {
  std::string path;
  std::FILE* f = nullptr;
  bool keep = false;
  ~TempFile() {
    if (f) std::fclose(f);
    if (!keep) std::remove(path.c_str());
  }
};

}  // namespace

void write_file_atomic(const std::string& path, std::string_view bytes) {
  TempFile tmp;
  tmp.path = path + ".tmp." + std::to_string(static_cast<long long>(::getpid()));
  tmp.f = std::fopen(tmp.path.c_str(), "wb");
  if (!tmp.f) {
    int e = errno;
    tmp.keep = true;  // nothing was created
    fail("cannot write {}: cannot create temp file {}: {}", path, tmp.path, std::strerror(e));
  }
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), tmp.f) != bytes.size()) {
    int e = errno;
    fail("cannot write {}: write to {} failed: {}", path, tmp.path, std::strerror(e));
  }
  if (std::fflush(tmp.f) != 0) {
    int e = errno;
    fail("cannot write {}: flush of {} failed: {}", path, tmp.path, std::strerror(e));
  }
  if (::fsync(::fileno(tmp.f)) != 0) {
    int e = errno;
    fail("cannot write {}: fsync of {} failed: {}", path, tmp.path, std::strerror(e));
  }
  std::FILE* f = tmp.f;
  tmp.f = nullptr;
  if (std::fclose(f) != 0) {
    int e = errno;
    fail("cannot write {}: close of {} failed: {}", path, tmp.path, std::strerror(e));
  }
  if (std::rename(tmp.path.c_str(), path.c_str()) != 0) {
    int e = errno;
    fail("cannot write {}: rename from {} failed: {}", path, tmp.path, std::strerror(e));
  }
  tmp.keep = true;  // it is the target now
}

std::string read_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    int e = errno;
    fail("cannot read {}: {}", path, std::strerror(e));
  }
  std::string out;
  char buf[1 << 16];
  for (;;) {
    size_t n = std::fread(buf, 1, sizeof buf, f);
    out.append(buf, n);
    if (n < sizeof buf) break;
  }
  if (std::ferror(f)) {
    int e = errno;
    std::fclose(f);
    fail("cannot read {}: {}", path, std::strerror(e));
  }
  std::fclose(f);
  return out;
}

}  // namespace clb
