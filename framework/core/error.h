#pragma once
// Errors. clb::Error carries a one-line message meant for the user: it names the file or setting
// and what would fix it. CLB_ASSERT is for internal invariants (bugs), and adds file:line.
//
// The core names a setting by its config field, the key results.json's config block uses (tasks,
// fisher.draws, backend, ...), never by a front end's flag: fail_setting writes "@field" in its
// format string, or passes setting("field") as an argument. what() shows the field; the CLI shows
// its flag instead (framework/cli/setting_flags.h).
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/core.h>

namespace clb {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(fmt::format(f, std::forward<Args>(args)...));
}

// A run stopped by a signal (SIGINT, SIGTERM) at a step's end; the front end writes what finished
// and exits 128 + signal.
class Interrupted : public std::runtime_error {
 public:
  explicit Interrupted(int signal) : std::runtime_error("interrupted"), signal_(signal) {}
  int signal() const { return signal_; }

 private:
  int signal_;
};

// An error about settings: its message holds each setting's field between markers, so that a front
// end can name it its own way.
class SettingError : public Error {
 public:
  explicit SettingError(std::string marked);
  // The message with each setting named name(field).
  std::string with_names(const std::function<std::string(const std::string&)>& name) const;
  // The message with its markers, to wrap in a longer one: SettingError(prefix + marked()).
  const std::string& marked() const { return marked_; }

 private:
  std::string marked_;
};

// A setting's field, marked, to pass as a format argument ("train_per_task").
std::string setting(std::string_view field);
// The format string with each "@field" (letters, digits, '_', '.' between them) marked.
std::string mark_settings(std::string_view format);

template <typename... Args>
[[noreturn]] void fail_setting(fmt::format_string<Args...> f, Args&&... args) {
  const fmt::string_view format = f;  // fmt 9: the format string converts to its view
  const std::string marked = mark_settings(std::string_view(format.data(), format.size()));
  throw SettingError(fmt::format(fmt::runtime(marked), std::forward<Args>(args)...));
}

}  // namespace clb

#define CLB_ASSERT(cond)                                                                        \
  do {                                                                                          \
    if (!(cond))                                                                                \
      throw ::clb::Error(::fmt::format("internal error at {}:{}: {} failed", __FILE__, __LINE__, \
                                       #cond));                                                 \
  } while (0)
