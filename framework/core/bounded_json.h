#pragma once
// Every JSON file clbench reads goes through here: a nesting-depth limit, a limit on the values and
// keys in the document, and no key twice in one object (nlohmann would silently keep the last one),
// all checked while the parser streams, before anything is built. Any problem is a one-line
// clb::Error that names the input and the limit. nlohmann's parser is iterative, but copying or
// dumping a DOM recurses, so a DOM 100,000 levels deep must never exist.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "framework/core/error.h"

namespace clb {

struct JsonLimits {
  size_t max_values;   // values (objects, arrays, scalars) and keys in the whole document
  int max_depth = 64;  // objects and arrays open at once
};

// Parses `text` into a DOM. `name` leads every error: a path, or the flag and path ("--config x.json").
nlohmann::json parse_json_bounded(std::string_view text, const std::string& name, const JsonLimits& limits);

// The same checks in front of a caller's SAX handler (nlohmann's SAX interface), for readers that
// build their own structure instead of a DOM (safetensors headers). The handler may throw clb::Error.
template <class Sax>
void sax_parse_bounded(std::string_view text, const std::string& name, const JsonLimits& limits, Sax& inner);

namespace detail {

// Forwards each event to `inner` after counting it against the limits.
template <class Sax>
class BoundedSax {
 public:
  using json = nlohmann::json;
  BoundedSax(Sax& inner, const std::string& name, const JsonLimits& limits)
      : inner_(inner), name_(name), limits_(limits) {}

  bool null() { return count() && inner_.null(); }
  bool boolean(bool v) { return count() && inner_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return count() && inner_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return count() && inner_.number_unsigned(v); }
  bool number_float(json::number_float_t v, const json::string_t& s) { return count() && inner_.number_float(v, s); }
  bool string(json::string_t& v) { return count() && inner_.string(v); }
  bool binary(json::binary_t& v) { return count() && inner_.binary(v); }
  bool start_object(size_t n) {
    count();
    open(true);
    return inner_.start_object(n);
  }
  bool key(json::string_t& k) {
    count();
    if (!keys_.back().insert(k).second)
      fail("{}: key \"{}\" appears twice in one JSON object; remove the duplicate (a reader would silently keep one)",
           name_, printable(k));
    return inner_.key(k);
  }
  bool end_object() {
    open_.pop_back();
    keys_.pop_back();
    return inner_.end_object();
  }
  bool start_array(size_t n) {
    count();
    open(false);
    return inner_.start_array(n);
  }
  bool end_array() {
    open_.pop_back();
    return inner_.end_array();
  }
  bool parse_error(size_t byte, const std::string& token, const nlohmann::detail::exception& e) {
    std::string msg = e.what();
    if (const size_t at = msg.find("] "); msg.rfind("[json.exception.", 0) == 0 && at != std::string::npos)
      msg.erase(0, at + 2);  // "[json.exception.parse_error.101] parse error at ..." -> "parse error at ..."
    fail("{}: not valid JSON ({})", name_, msg);
  }

 private:
  bool count() {
    if (++values_ > limits_.max_values)
      fail("{}: JSON holds more than {} values and keys, the limit for this file; the file is corrupt or not the "
           "one expected",
           name_, limits_.max_values);
    return true;
  }
  void open(bool object) {
    if (int(open_.size()) >= limits_.max_depth)
      fail("{}: JSON nested deeper than {} levels, the limit for this file; the file is corrupt or not the one "
           "expected",
           name_, limits_.max_depth);
    open_.push_back(object);
    if (object) keys_.emplace_back();
  }
  // A key for a one-line message: control characters escaped, long keys cut.
  static std::string printable(const std::string& k) {
    std::string out;
    for (char c : k.substr(0, 80)) {
      if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\')
        out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
      else
        out += c;
    }
    return k.size() > 80 ? out + "..." : out;
  }

  Sax& inner_;
  const std::string& name_;
  const JsonLimits& limits_;
  size_t values_ = 0;
  std::vector<bool> open_;  // true: object
  std::vector<std::unordered_set<std::string>> keys_;  // per open object
};

}  // namespace detail

template <class Sax>
void sax_parse_bounded(std::string_view text, const std::string& name, const JsonLimits& limits, Sax& inner) {
  detail::BoundedSax<Sax> sax(inner, name, limits);
  // strict: nothing but whitespace after the value. A handler that returns false without throwing
  // is a bug in the handler.
  const bool ok = nlohmann::json::sax_parse(text.data(), text.data() + text.size(), &sax);
  CLB_ASSERT(ok);
}

}  // namespace clb
