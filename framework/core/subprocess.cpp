#include "framework/core/subprocess.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <sstream>
#include <utility>

extern char** environ;

namespace clb {

int start_process(const std::vector<std::string>& argv, const Redirects& io) {
  if (argv.empty()) return -1;
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!io.in.empty()) posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, io.in.c_str(), O_RDONLY, 0);
  const int mode = O_WRONLY | O_CREAT | (io.append ? O_APPEND : O_TRUNC);
  if (!io.out.empty()) posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, io.out.c_str(), mode, 0644);
  if (!io.err.empty() && io.err == io.out)  // one file for both: one open file, so lines interleave, not overwrite
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  else if (!io.err.empty())
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, io.err.c_str(), mode, 0644);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  if (io.own_process_group) {
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  }
  pid_t pid = 0;
  const int started = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  return started == 0 ? int(pid) : -1;
}

namespace {

int exit_status(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1; }

}  // namespace

std::optional<int> poll_process(int pid) {
  int status = 0;
  pid_t r;
  while ((r = waitpid(pid, &status, WNOHANG)) < 0)
    if (errno != EINTR) return -1;
  if (r == 0) return std::nullopt;
  return exit_status(status);
}

namespace {

// waitpid's raw status, or -1 when waiting failed.
int wait_raw(int pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return status;
}

}  // namespace

int wait_process(int pid) {
  const int status = wait_raw(pid);
  return status < 0 ? -1 : exit_status(status);
}

int run_process(const std::vector<std::string>& argv, const Redirects& io) {
  const int pid = start_process(argv, io);
  if (pid < 0) return -1;
  const int status = wait_raw(pid);
  return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;  // a signal's end: not a normal exit
}

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (!path || program.empty() || program.find('/') != std::string::npos) return false;
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    if (access(((dir.empty() ? "." : dir) + "/" + program).c_str(), X_OK) == 0) return true;
  return false;
}

}  // namespace clb
