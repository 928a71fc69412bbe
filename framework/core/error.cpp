#include "framework/core/error.h"

#include <cctype>

namespace clb {

namespace {

constexpr char kOpen = '\x01', kClose = '\x02';  // around a field: never in a user's text

bool field_char(char c) { return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace

std::string setting(std::string_view field) { return kOpen + std::string(field) + kClose; }

std::string mark_settings(std::string_view f) {
  std::string out;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '@' || i + 1 >= f.size() || !field_char(f[i + 1])) {
      out += f[i];
      continue;
    }
    size_t end = i + 1;
    // "fisher.draws": a dot joins two names; a dot at the end is the sentence's.
    while (end < f.size() && (field_char(f[end]) || (f[end] == '.' && end + 1 < f.size() && field_char(f[end + 1]))))
      ++end;
    out += setting(f.substr(i + 1, end - i - 1));
    i = end - 1;
  }
  return out;
}

SettingError::SettingError(std::string marked)
    : Error([&] {
        std::string plain;
        for (char c : marked)
          if (c != kOpen && c != kClose) plain += c;
        return plain;
      }()),
      marked_(std::move(marked)) {}

std::string SettingError::with_names(const std::function<std::string(const std::string&)>& name) const {
  std::string out;
  for (size_t i = 0; i < marked_.size(); ++i) {
    const size_t close = marked_[i] == kOpen ? marked_.find(kClose, i) : std::string::npos;
    if (close == std::string::npos) {
      out += marked_[i];
      continue;
    }
    out += name(marked_.substr(i + 1, close - i - 1));
    i = close;
  }
  return out;
}

}  // namespace clb
