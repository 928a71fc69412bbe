// parse_json_bounded: hostile JSON ends in one clb::Error naming the input and the limit, before a
// deep or huge DOM exists (framework/core/bounded_json.h).
#include <gtest/gtest.h>

#include <string>

#include "framework/core/bounded_json.h"
#include "framework/core/error.h"
#include "tests/common/test_helpers.h"

namespace clb {
namespace {

using test::error_of;
const JsonLimits kLimits{.max_values = 1000};

std::string repeat(const std::string& s, int n) {
  std::string out;
  out.reserve(s.size() * size_t(n));
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(BoundedJson, ParsesAnOrdinaryDocument) {
  const nlohmann::json j = parse_json_bounded(R"({"a": [1, 2.5, "x", null, true], "b": {"c": {}}})", "doc.json", kLimits);
  EXPECT_EQ(j["a"][1], 2.5);
  EXPECT_EQ(j["b"]["c"], nlohmann::json::object());
}

// 100,000 levels: without the limit the DOM's copies and dumps would recurse off the stack.
TEST(BoundedJson, DeepArraysAreRejectedAtTheDepthLimit) {
  for (const std::string& open : {std::string("["), std::string("{\"a\":")}) {
    const std::string e = error_of([&] { parse_json_bounded(repeat(open, 100000), "deep.json", kLimits); });
    EXPECT_NE(e.find("deep.json: JSON nested deeper than 64 levels"), std::string::npos) << e;
  }
  // Exactly at the limit is fine; one more is not.
  EXPECT_NO_THROW(parse_json_bounded(repeat("[", 64) + repeat("]", 64), "ok.json", kLimits));
  EXPECT_NE(error_of([&] { parse_json_bounded(repeat("[", 65) + repeat("]", 65), "x.json", kLimits); })
                .find("deeper than 64"),
            std::string::npos);
}

TEST(BoundedJson, TooManyValuesAreRejected) {
  const std::string e = error_of([&] { parse_json_bounded("[" + repeat("0,", 5000) + "0]", "big.json", kLimits); });
  EXPECT_NE(e.find("big.json: JSON holds more than 1000 values and keys"), std::string::npos) << e;
  // Keys count too.
  std::string obj = "{";
  for (int i = 0; i < 600; ++i) obj += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + (i < 599 ? "," : "}");
  EXPECT_NE(error_of([&] { parse_json_bounded(obj, "keys.json", kLimits); }).find("more than 1000"), std::string::npos);
}

TEST(BoundedJson, DuplicateKeysAreRejected) {
  const std::string e = error_of([&] { parse_json_bounded(R"({"a": 1, "b": {"a": 2}, "a": 3})", "dup.json", kLimits); });
  EXPECT_NE(e.find("dup.json: key \"a\" appears twice in one JSON object"), std::string::npos) << e;
  // The same key in different objects is fine.
  EXPECT_NO_THROW(parse_json_bounded(R"([{"a": 1}, {"a": 2}, {"b": {"a": 3}}])", "ok.json", kLimits));
}

TEST(BoundedJson, SyntaxErrorsAreOneLineNamingTheInput) {
  for (const std::string& bad : {std::string("{\"a\": "), std::string("[1, 2] x"), std::string(""),
                                 std::string("{\"a\":\n\n nope}")}) {
    const std::string e = error_of([&] { parse_json_bounded(bad, "bad.json", kLimits); });
    EXPECT_EQ(e.rfind("bad.json: not valid JSON (parse error at line", 0), 0u) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    EXPECT_EQ(e.find("[json.exception"), std::string::npos) << e;
  }
}

}  // namespace
}  // namespace clb
