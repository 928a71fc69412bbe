#include "framework/cli/sweep_runner.h"

#include <signal.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "framework/cli/stop_signals.h"
#include "framework/core/error.h"
#include "framework/core/subprocess.h"

namespace clb::cli {

namespace {

// Messages between ranks (text payloads).
enum Tag : int {
  kRequest = 1,  // rank -> 0: a slot is free
  kStart = 2,    // 0 -> rank: "start NAME" or "resume NAME"
  kWait = 3,     // 0 -> rank: none now, ask again soon (the phase is ending)
  kStop = 4,     // 0 -> rank: no more cells
  kDone = 5,     // rank -> 0: "STATUS NAME"
  kAbort = 6,    // 0 -> rank: rank 0 was interrupted; stop the running cells and end
};

constexpr auto kPollEvery = std::chrono::milliseconds(20);

// The last lines of a cell's log, for the error that names it.
std::string log_tail(const std::string& path, int lines) {
  std::ifstream in(path);
  std::deque<std::string> last;
  for (std::string line; std::getline(in, line);) {
    last.push_back(line);
    if (int(last.size()) > lines) last.pop_front();
  }
  std::string s;
  for (const auto& l : last) s += (s.empty() ? "" : " | ") + l;
  return s;
}

// Test hook (README, "Tests"): CLBENCH_SWEEP_STOP_AFTER=N raises SIGTERM once N cells ended in
// this process, so tests stop a sweep at a known point.
void maybe_stop_after(int ended) {
  if (const char* n = std::getenv("CLBENCH_SWEEP_STOP_AFTER"); n && std::atoi(n) == ended) std::raise(SIGTERM);
}

}  // namespace

SweepRunner::SweepRunner(std::string exe, std::string out, int workers, const MpiWorld& world, Progress progress)
    : exe_(std::move(exe)), out_(std::move(out)), workers_(workers), world_(world), progress_(std::move(progress)),
      stopped_(size_t(world.size()), false) {
  catch_stop_signals();
}

void SweepRunner::start(const std::string& name, bool resume) {
  std::vector<std::string> argv = {exe_, "run"};
  if (resume) argv.insert(argv.end(), {"--resume", cell_out_dir(out_, name)});
  else argv.insert(argv.end(), {"--config", cell_config_path(out_, name), "--out", cell_out_dir(out_, name)});
  const std::string log = cell_log_path(out_, name);
  const int pid = start_process(argv, {.in = "/dev/null", .out = log, .err = log, .append = true, .own_process_group = true});
  if (pid < 0) fail("clbench sweep: cannot start {} for cell {}", exe_, name);
  running_.push_back({pid, name});
}

std::vector<std::pair<std::string, int>> SweepRunner::reap() {
  std::vector<std::pair<std::string, int>> ended;
  for (size_t i = 0; i < running_.size();) {
    if (const auto status = poll_process(running_[i].pid)) {
      ended.emplace_back(running_[i].name, *status);
      running_.erase(running_.begin() + std::ptrdiff_t(i));
      maybe_stop_after(++ended_in_this_process_);
    } else {
      ++i;
    }
  }
  return ended;
}

void SweepRunner::stop_all() {
  for (const Running& r : running_) ::kill(r.pid, SIGTERM);
  for (const Running& r : running_) wait_process(r.pid);
  running_.clear();
}

void SweepRunner::run_phase(const std::vector<SweepCell>& cells, const std::string& phase) {
  const std::atomic<int>& stop = catch_stop_signals();
  std::deque<std::pair<std::string, bool>> pending;  // name, resume
  int finished_before = 0;
  for (const SweepCell& c : cells) {
    const CellState s = prepare_cell(out_, c);
    if (s == CellState::kFinished) ++finished_before;
    else pending.emplace_back(c.name, s == CellState::kResumable);
  }
  const int total = int(cells.size());
  int done = finished_before, succeeded = finished_before, outstanding = 0;
  progress_(fmt::format("{}: {} cells, {} finished earlier{}", phase, total, finished_before,
                        world_.size() > 1 ? fmt::format(", on {} ranks x {} workers", world_.size(), workers_)
                                          : fmt::format(", {} at a time", workers_)));
  std::string failed;  // the first cell that failed, and why
  const auto t0 = std::chrono::steady_clock::now();
  auto ended = [&](const std::string& name, int status, int rank) {
    --outstanding;
    ++done;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (status == 0) {
      ++succeeded;
      progress_(fmt::format("[{:>3}/{}] {} done{} ({:.0f} s into the phase)", done, total, name,
                            world_.size() > 1 ? fmt::format(" on rank {}", rank) : "", s));
    } else if (failed.empty()) {
      failed = fmt::format("cell {} failed (exit status {}): {}; its log is {}", name, status,
                           log_tail(cell_log_path(out_, name), 3), cell_log_path(out_, name));
      progress_(fmt::format("cell {} failed; {} the sweep", name,
                            outstanding > 0 ? "waiting for the running cells, then stopping" : "stopping"));
    }
  };
  while ((failed.empty() && !pending.empty()) || outstanding > 0) {  // after a failure: until the running end
    if (const int sig = stop.load()) {
      stop_all();
      throw Interrupted(sig);
    }
    while (failed.empty() && int(running_.size()) < workers_ && !pending.empty()) {
      start(pending.front().first, pending.front().second);
      pending.pop_front();
      ++outstanding;
    }
    while (const auto m = world_.poll()) {
      if (m->tag == kDone) {
        const auto space = m->text.find(' ');
        ended(m->text.substr(space + 1), std::atoi(m->text.substr(0, space).c_str()), m->from);
      } else if (m->tag == kRequest) {
        if (!failed.empty()) {
          world_.send(m->from, kStop, ""), stopped_[size_t(m->from)] = true;
        } else if (!pending.empty()) {
          world_.send(m->from, kStart, (pending.front().second ? "resume " : "start ") + pending.front().first);
          pending.pop_front();
          ++outstanding;
        } else {
          world_.send(m->from, kWait, "");
        }
      }
    }
    for (const auto& [name, status] : reap()) ended(name, status, 0);
    std::this_thread::sleep_for(kPollEvery);
  }
  if (!failed.empty()) {
    release_ranks();
    fail("{}; fix it and run the same command again: the {} finished cells are kept", failed, succeeded);
  }
}

void SweepRunner::release_ranks() {
  auto all_stopped = [&] {
    for (int r = 1; r < world_.size(); ++r)
      if (!stopped_[size_t(r)]) return false;
    return true;
  };
  while (!all_stopped()) {
    if (const auto m = world_.poll()) {
      if (m->tag == kRequest) world_.send(m->from, kStop, ""), stopped_[size_t(m->from)] = true;
    } else {
      std::this_thread::sleep_for(kPollEvery);
    }
  }
}

void SweepRunner::serve() {
  const std::atomic<int>& stop = catch_stop_signals();
  bool asked = false, told_to_stop = false;  // a request is unanswered; rank 0 has no more cells
  auto retry_at = std::chrono::steady_clock::now();
  while (!told_to_stop || !running_.empty()) {
    if (const int sig = stop.load()) {
      stop_all();
      throw Interrupted(sig);
    }
    for (const auto& [name, status] : reap()) world_.send(0, kDone, fmt::format("{} {}", status, name));
    while (const auto m = world_.poll()) {
      if (m->tag == kAbort) {  // rank 0 was interrupted: so is this rank
        stop_all();
        throw Interrupted(SIGTERM);
      }
      asked = false;
      if (m->tag == kStart) {
        const auto space = m->text.find(' ');
        start(m->text.substr(space + 1), m->text.substr(0, space) == "resume");
      } else if (m->tag == kWait) {
        retry_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
      } else if (m->tag == kStop) {
        told_to_stop = true;
      }
    }
    if (!told_to_stop && !asked && int(running_.size()) < workers_ && std::chrono::steady_clock::now() >= retry_at) {
      world_.send(0, kRequest, "");
      asked = true;
    }
    std::this_thread::sleep_for(kPollEvery);
  }
}

void SweepRunner::abort_ranks() {
  for (int r = 1; r < world_.size(); ++r) world_.send(r, kAbort, "");
}

}  // namespace clb::cli
