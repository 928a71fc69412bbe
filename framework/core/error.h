#pragma once
// Errors. clb::Error carries a one-line message meant for the user: it names the file, field or flag
// and what would fix it. CLB_ASSERT is for internal invariants (bugs), and adds file:line.
#include <stdexcept>
#include <string>

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

}  // namespace clb

#define CLB_ASSERT(cond)                                                                        \
  do {                                                                                          \
    if (!(cond))                                                                                \
      throw ::clb::Error(::fmt::format("internal error at {}:{}: {} failed", __FILE__, __LINE__, \
                                       #cond));                                                 \
  } while (0)
