#pragma once
// Other programs (gnuplot for the report's plots), started with an argument vector: no shell runs,
// so nothing in a path or in data is ever interpreted as a command.
#include <string>
#include <vector>

namespace clb {

// Runs argv[0] (looked up on PATH) with argv, and waits for it. Its stderr goes to `stderr_path`
// (created or truncated) when that is given, else where clbench's goes. Returns its exit status,
// or -1 when it could not be started or did not exit normally (a signal).
int run_process(const std::vector<std::string>& argv, const std::string& stderr_path = "");

// True when `program` is an executable file in one of PATH's directories.
bool on_path(const std::string& program);

}  // namespace clb
