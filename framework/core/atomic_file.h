#pragma once
// Whole-file I/O. write_file_atomic never leaves a half-written target: it writes a temp file in the
// same directory, flushes it to disk, then renames it over the target. Errors are clb::Error.
#include <string>
#include <string_view>

namespace clb {

// Writes `bytes` to path + ".tmp.<pid>", fflush + fsync, then std::rename over `path`. An existing
// file is only replaced by a complete new one. On any error the temp file is removed and a
// clb::Error naming `path` and the cause (strerror) is thrown.
void write_file_atomic(const std::string& path, std::string_view bytes);

// Reads the whole file in binary mode. Throws clb::Error naming `path` if it can't be read.
std::string read_file(const std::string& path);

}  // namespace clb
