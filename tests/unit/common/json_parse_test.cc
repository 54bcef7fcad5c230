// simdjson's parse built as nlohmann values equals nlohmann's own parse (types included), and
// what simdjson refuses comes back empty for nlohmann to parse or name.
#include "common/json_parse.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice {
namespace {

using Json = nlohmann::ordered_json;

void expect_same_as_nlohmann(const std::string& text) {
  const auto fast = parse_json_simd(text);
  ASSERT_TRUE(fast) << text;
  const Json slow = Json::parse(text);
  EXPECT_EQ(*fast, slow) << text;
  EXPECT_EQ(fast->dump(), slow.dump()) << text;  // the order of keys and number types too
}

TEST(JsonParse, EqualsNlohmannOnValuesOfEveryKind) {
  for (const char* text : {
           R"({"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true})",
           R"({"n":1,"neg":-3,"zero":0,"f":0.7,"e":1e-7,"big":18446744073709551615,"x":null})",
           R"({"max":9223372036854775807,"min":-9223372036854775808,"half":2.5E+3})",
           R"({"s":"tab\t quote\" slash\/ back\\ \u00e9 \ud83d\ude00 nul\u0000"})",
           R"({"b":[true,false,[],{},[[1]],{"a":{"b":{}}}],"k":{"z":1,"a":2}})",
           R"({"dup":1,"other":2,"dup":3})",  // a repeated key: first place, last value
           R"([1,"two",3.0])",
           R"("text")",
           "  {\"spaced\" :\n [ 1 , 2 ]\t}\n",
       })
    expect_same_as_nlohmann(text);
}

TEST(JsonParse, EqualsNlohmannOnALargeBase64Body) {
  std::string data(1 << 20, 'A');
  for (size_t i = 0; i < data.size(); ++i) data[i] = "ABCDEFGHabcdefgh0123+/"[i * 7 % 22];
  expect_same_as_nlohmann(R"({"messages":[{"role":"user","content":[{"type":"image_url",)"
                          R"("image_url":{"url":"data:image/png;base64,)" +
                          data + R"("}}]}],"temperature":0})");
}

TEST(JsonParse, RefusesWhatSimdjsonCannotHold) {
  EXPECT_FALSE(parse_json_simd(R"({"a":1)"));                       // truncated
  EXPECT_FALSE(parse_json_simd(R"({"a":01})"));                     // not JSON
  EXPECT_FALSE(parse_json_simd("{\"a\":\"\xff\"}"));                // not UTF-8
  EXPECT_FALSE(parse_json_simd(R"({"a":123456789012345678901})"));  // beyond 64 bits
  EXPECT_FALSE(parse_json_simd(""));
}

}  // namespace
}  // namespace sluice
