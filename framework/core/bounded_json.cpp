// GCC 12 at -O3 reports a false -Wrestrict inside std::string's copy once nlohmann's parser is inlined
// here (GCC bug 105329); nothing in this file copies overlapping memory.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif
#include "framework/core/bounded_json.h"

namespace clb {

nlohmann::json parse_json_bounded(std::string_view text, const std::string& name, const JsonLimits& limits) {
  nlohmann::json out;
  // nlohmann's own DOM builder (the one json::parse uses), behind the limits.
  nlohmann::detail::json_sax_dom_parser<nlohmann::json> dom(out, /*allow_exceptions=*/true);
  sax_parse_bounded(text, name, limits, dom);
  return out;
}

}  // namespace clb
