#pragma once
// Other programs (gnuplot for the report's plots), started with an argument vector: no shell runs,
// so nothing in a path or in data is ever interpreted as a command.
#include <optional>
#include <string>
#include <vector>

namespace clb {

// Files for the program's standard streams; "" = clbench's own. Output files are created or
// truncated.
struct Redirects {
  std::string in, out, err;
  bool append = false;  // out and err: append instead of truncating
  // The child in a process group of its own: a terminal's Ctrl-C reaches only clbench, which then
  // asks the child to stop once (clbench sweep), instead of both getting it.
  bool own_process_group = false;
};

// Runs argv[0] (looked up on PATH) with argv, and waits for it. Returns its exit status, or -1
// when it could not be started or did not exit normally (a signal).
int run_process(const std::vector<std::string>& argv, const Redirects& io = {});

// The same, without waiting (clbench sweep runs cells side by side): the child's pid, or -1 when
// it could not be started. argv[0] may also be a path.
int start_process(const std::vector<std::string>& argv, const Redirects& io = {});
// A started child's end without blocking: nothing while it runs, else its exit status (128 +
// the signal's number when a signal ended it, as a shell reports it).
std::optional<int> poll_process(int pid);
// Waits for a started child: its status as poll_process gives it (-1 when waiting failed).
int wait_process(int pid);

// True when `program` is an executable file in one of PATH's directories.
bool on_path(const std::string& program);

}  // namespace clb
