#pragma once
// Other programs (gnuplot for the report's plots), started with an argument vector: no shell runs,
// so nothing in a path or in data is ever interpreted as a command.
#include <string>
#include <vector>

namespace clb {

// Files for the program's standard streams; "" = clbench's own. Output files are created or
// truncated.
struct Redirects {
  std::string in, out, err;
};

// Runs argv[0] (looked up on PATH) with argv, and waits for it. Returns its exit status, or -1
// when it could not be started or did not exit normally (a signal).
int run_process(const std::vector<std::string>& argv, const Redirects& io = {});

// True when `program` is an executable file in one of PATH's directories.
bool on_path(const std::string& program);

}  // namespace clb
