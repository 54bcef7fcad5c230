// JSON Schema keywords: documents accepted and rejected byte by byte; errors name the keyword.
#include <gtest/gtest.h>

#include "structured/grammar.h"
#include "structured_test_util.h"

namespace sluice::structured {
namespace {

using json = nlohmann::ordered_json;

std::shared_ptr<const Grammar> schema_grammar(const std::string& schema_text) {
  auto node = json_schema(json::parse(schema_text));
  EXPECT_TRUE(node.ok()) << node.error();
  if (!node.ok()) return nullptr;
  auto g = compile(*node);
  EXPECT_TRUE(g.ok()) << g.error();
  return g.ok() ? *g : nullptr;
}

void expect_language(const std::string& schema, std::vector<std::string> good,
                     std::vector<std::string> bad) {
  auto g = schema_grammar(schema);
  ASSERT_TRUE(g);
  for (const std::string& s : good)
    EXPECT_TRUE(byte_accepts(g, s)) << schema << " should accept " << s;
  for (const std::string& s : bad)
    EXPECT_FALSE(byte_accepts(g, s)) << schema << " should reject " << s;
}

std::string error_of(const std::string& schema) {
  auto node = json_schema(json::parse(schema));
  return node.ok() ? "" : node.error();
}

TEST(JsonSchema, Types) {
  expect_language(R"({"type":"string"})", {R"("")", R"("a\"b\\\u00e9\n")", "\"\xe6\x97\xa5\""},
                  {"\"a", "\"\t\"", "1", R"("\x")", "\"\xff\""});
  expect_language(R"({"type":"integer"})", {"0", "-7", "1234567890123"},
                  {"01", "-0x", "1.5", "+1", "-"});
  expect_language(R"({"type":"number"})", {"0", "-0.5", "1e9", "2.5E-3"},
                  {".5", "1.", "1e", "--1"});
  expect_language(R"({"type":"boolean"})", {"true", "false"}, {"null", "tru"});
  expect_language(R"({"type":["null","integer"]})", {"null", "3"}, {"\"x\"", "true"});
  expect_language(R"({})", {"{}", "[1,\"a\",null]", "-1.5", "\"s\""}, {"", "{", "nul"});
}

TEST(JsonSchema, ObjectPropertiesInOrder) {
  const char* s = R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"},
                      "c":{"type":"boolean"}},"required":["b"]})";
  expect_language(s,
                  {R"({"b":"x"})", R"({"a":1,"b":"x"})", R"({"a": 1, "b": "x", "c": true})",
                   "{\n  \"b\": \"x\",\n  \"c\": false\n}"},
                  {R"({})", R"({"a":1})", R"({"b":"x","a":1})", R"({"b":"x","d":1})",
                   R"({"b":"x",})", R"({"b" : "x"})", R"({"b":  "x"})"});
}

TEST(JsonSchema, AllOptionalAndAdditional) {
  expect_language(R"({"properties":{"a":{"type":"integer"},"b":{"type":"integer"}}})",
                  {"{}", R"({"a":1})", R"({"b":2})", R"({"a":1,"b":2})"},
                  {R"({"b":2,"a":1})", R"({,"b":2})", R"({"c":3})"});
  expect_language(
      R"({"properties":{"a":{"type":"integer"}},"additionalProperties":{"type":"string"}})",
      {"{}", R"({"a":1,"x":"y"})", R"({"x":"y","z":""})", R"({"ab":"y"})"},
      {R"({"x":1})", R"({"a":"s"})", R"({"x":"y","a":1})"});
  expect_language(R"({"type":"object"})", {"{}", R"({"k":[1]})"}, {"[]"});
}

TEST(JsonSchema, EnumAndConst) {
  expect_language(R"({"enum":["a",1,null,{"k":[true]}]})",
                  {R"("a")", "1", "null", R"({"k":[true]})"}, {R"("b")", "2", R"({"k":[false]})"});
  expect_language(R"({"const":"x\"y"})", {R"("x\"y")"}, {R"("xy")"});
}

TEST(JsonSchema, Arrays) {
  expect_language(R"({"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":3})",
                  {"[1]", "[1,2]", "[1, 2, 3]", "[\n  1\n]"},
                  {"[]", "[1,2,3,4]", "[1,]", "[\"a\"]"});
  expect_language(R"({"type":"array","prefixItems":[{"type":"string"},{"type":"integer"}]})",
                  {"[]", R"(["a"])", R"(["a",1])"}, {R"(["a",1,2])", R"([1])"});
  expect_language(
      R"({"type":"array","prefixItems":[{"type":"string"}],"items":{"type":"integer"},"minItems":2})",
      {R"(["a",1])", R"(["a",1,2,3])"}, {R"(["a"])", R"(["a","b"])"});
}

TEST(JsonSchema, RefsAndRecursion) {
  expect_language(
      R"({"$defs":{"n":{"type":"object","properties":{"c":{"type":"array","items":{"$ref":"#/$defs/n"}}},"required":["c"]}},"$ref":"#/$defs/n"})",
      {R"({"c":[]})", R"({"c":[{"c":[]},{"c":[{"c":[]}]}]})"}, {R"({"c":[{}]})"});
  expect_language(
      R"({"type":"object","properties":{"next":{"anyOf":[{"$ref":"#"},{"type":"null"}]}},"required":["next"]})",
      {R"({"next":null})", R"({"next":{"next":null}})"}, {R"({"next":{}})"});
  EXPECT_NE(error_of(R"({"$ref":"#/$defs/missing"})").find("$ref"), std::string::npos);
  auto left = compile(*json_schema(json::parse(R"({"$ref":"#"})")));
  EXPECT_FALSE(left.ok());
}

TEST(JsonSchema, AnyOfOneOf) {
  expect_language(R"({"anyOf":[{"type":"integer","minimum":10},{"type":"string","maxLength":1}]})",
                  {"10", "99", R"("a")", R"("")"}, {"9", R"("ab")", "null"});
  expect_language(R"({"oneOf":[{"const":1},{"const":2}]})", {"1", "2"}, {"3"});
}

TEST(JsonSchema, StringLengths) {
  expect_language(R"({"type":"string","minLength":2,"maxLength":3})",
                  {R"("ab")", R"("abc")", "\"\xc3\xa9\xc3\xa9\"", R"("\"\\")"},
                  {R"("a")", R"("abcd")", "\"\xc3\xa9\""});
}

TEST(JsonSchema, Patterns) {
  expect_language(R"({"type":"string","pattern":"^[a-c]{2}\\d$"})", {R"("ab1")", R"("cc0")"},
                  {R"("ab")", R"("ad1")", R"("ab12")"});
  expect_language(R"({"type":"string","pattern":"x(y|z)+"})", {R"("xy")", R"("--xzzy--")"},
                  {R"("x")", R"("yx")"});
  expect_language(R"({"type":"string","pattern":"^a.c$"})",
                  {R"("abc")",
                   "\"a\xe2\x82\xac"
                   "c\""},
                  {R"("a\nc")", R"("ac")"});
  expect_language(R"({"type":"string","pattern":"^[^a-z]+$"})", {R"("AB1")", "\"\xc3\xa9\""},
                  {R"("aB")"});
  expect_language(R"({"type":"string","pattern":"^q\"\\\\$"})", {R"("q\"\\")"}, {R"("q"\")"});
  for (const char* bad : {"(a)\\1", "(?=a)", "a\\b", "(?i)a", "a++", "[a"})
    EXPECT_NE(error_of(json({{"type", "string"}, {"pattern", bad}}).dump()).find("'pattern'"),
              std::string::npos)
        << bad;
}

TEST(JsonSchema, Formats) {
  expect_language(R"({"type":"string","format":"date"})", {R"("2024-02-28")", R"("1999-12-31")"},
                  {R"("2024-13-01")", R"("2024-04-31")", R"("24-01-01")"});
  expect_language(R"({"type":"string","format":"date-time"})",
                  {R"("2024-01-02T03:04:05Z")", R"("2024-01-02T23:59:59.123+05:30")"},
                  {R"("2024-01-02T24:00:00Z")", R"("2024-01-02T03:04:05")"});
  expect_language(R"({"type":"string","format":"uuid"})",
                  {R"("123e4567-e89b-12d3-a456-426614174000")"}, {R"("123e4567")"});
  expect_language(R"({"type":"string","format":"ipv4"})", {R"("192.168.0.1")", R"("0.0.0.0")"},
                  {R"("256.1.1.1")", R"("01.1.1.1")"});
  expect_language(R"({"type":"string","format":"email"})", {R"("a.b@c.org")"},
                  {R"("a@b")", R"("@b.c")"});
  expect_language(R"({"type":"string","format":"uri"})", {R"("https://x.org/a?b=c#d")"},
                  {R"("x y")", R"("/rel")"});
  EXPECT_NE(error_of(R"({"type":"string","format":"credit-card"})").find("credit-card"),
            std::string::npos);
}

TEST(JsonSchema, IntegerBounds) {
  expect_language(R"({"type":"integer","minimum":-12,"maximum":105})",
                  {"-12", "-1", "0", "9", "10", "99", "100", "105"},
                  {"-13", "106", "-0", "200", "1000"});
  expect_language(R"({"type":"integer","exclusiveMinimum":7})", {"8", "10", "123456"},
                  {"7", "0", "-5"});
  expect_language(R"({"type":"integer","maximum":-5})", {"-5", "-100"}, {"-4", "0", "5"});
  expect_language(R"({"type":"integer","minimum":2.5,"maximum":4.5})", {"3", "4"}, {"2", "5"});
}

TEST(JsonSchema, NumberBounds) {
  expect_language(R"({"type":"number","minimum":0,"maximum":1})",
                  {"0", "0.5", "0.999", "1", "1.0", "1.00"}, {"-0.1", "1.01", "2", "1e0", "-0"});
  expect_language(R"({"type":"number","exclusiveMinimum":0,"exclusiveMaximum":10})",
                  {"0.001", "5", "9.99"}, {"0", "0.0", "10", "10.0"});
  expect_language(R"({"type":"number","minimum":-2,"maximum":-1})", {"-2", "-1.5", "-1", "-1.0"},
                  {"-2.5", "-0.5", "-2.01"});
}

TEST(JsonSchema, ErrorsNameKeywordAndPointer) {
  EXPECT_EQ(error_of(R"({"type":"object","properties":{"x":{"not":{}}}})"),
            "[json_schema] unsupported keyword 'not' at /properties/x");
  EXPECT_NE(error_of(R"({"type":"integer","multipleOf":2})").find("'multipleOf'"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type":"array","uniqueItems":true})").find("'uniqueItems'"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"patternProperties":{}})").find("'patternProperties'"), std::string::npos);
  EXPECT_NE(error_of(R"({"anyOf":[{}],"minimum":1})").find("'minimum'"), std::string::npos);
  EXPECT_EQ(
      error_of(R"({"title":"t","description":"d","examples":[1],"$comment":"c","type":"null"})"),
      "");
}

}  // namespace
}  // namespace sluice::structured
