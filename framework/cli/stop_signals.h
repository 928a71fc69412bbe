#pragma once
// SIGINT and SIGTERM during `clbench run`: the first one asks the run to stop after its current
// step (the task loop reads the flag), so that what finished is written and a checkpoint kept; a
// second one ends the process at once (the handlers reset themselves).
#include <atomic>
#include <string>

namespace clb::cli {

// Installs the handlers (once) and returns the flag they set: 0, or the signal's number.
const std::atomic<int>& catch_stop_signals();
// "SIGTERM", "SIGINT", or "signal N".
std::string signal_name(int signal);

}  // namespace clb::cli
