// Core automaton and matcher on a byte-per-token vocabulary: acceptance byte by byte.
#include <gtest/gtest.h>

#include "structured/grammar_node.h"
#include "structured_test_util.h"

namespace sluice::structured {
namespace {

TEST(MatcherBasic, LiteralAndChoice) {
  auto g = compile(sequence({literal("ab"), choice({literal("c"), literal("de")})}));
  ASSERT_TRUE(g.ok()) << g.error();
  EXPECT_TRUE(byte_accepts(*g, "abc"));
  EXPECT_TRUE(byte_accepts(*g, "abde"));
  EXPECT_FALSE(byte_accepts(*g, "abd"));
  EXPECT_FALSE(byte_accepts(*g, "abcd"));
  EXPECT_FALSE(byte_accepts(*g, "x"));
}

TEST(MatcherBasic, RepeatBounds) {
  auto g = compile(repeat(literal("ab"), 2, 3));
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(byte_accepts(*g, "ab"));
  EXPECT_TRUE(byte_accepts(*g, "abab"));
  EXPECT_TRUE(byte_accepts(*g, "ababab"));
  EXPECT_FALSE(byte_accepts(*g, "abababab"));
  auto u = compile(repeat(literal("x"), 1, -1));
  EXPECT_TRUE(byte_accepts(*u, std::string(500, 'x')));
  EXPECT_FALSE(byte_accepts(*u, ""));
}

TEST(MatcherBasic, TextUntil) {
  auto g = compile(sequence({literal("<a>"), text_until("</a>")}));
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(byte_accepts(*g, "<a>hello </ b </a>"));
  EXPECT_TRUE(byte_accepts(*g, "<a></a>"));
  EXPECT_FALSE(byte_accepts(*g, "<a>x</a>y"));
  EXPECT_FALSE(byte_accepts(*g, "<a>x</a"));
}

TEST(MatcherBasic, AnyJsonObject) {
  auto g = compile(any_json_object());
  ASSERT_TRUE(g.ok()) << g.error();
  for (const char* ok :
       {"{}", "{\"a\": 1}", "{\"a\":[1,2,{\"b\":null}],\"c\":\"x\\u00e9\"}",
        "{\n  \"a\": true,\n  \"b\": -1.5e3\n}", "{\"\xc3\xa9\": \"\xe2\x82\xac\"}"})
    EXPECT_TRUE(byte_accepts(*g, ok)) << ok;
  for (const char* bad :
       {"[]", "{", "{\"a\"}", "{\"a\":01}", "{\"a\":1,}", "{\"a\":\"\x01\"}", "{\"a\":\"\xc3\"}",
        "{\"a\":\"\xed\xa0\x80\"}", "{} ", "{\"a\":1}}", "{\n\n}"})
    EXPECT_FALSE(byte_accepts(*g, bad)) << bad;
}

TEST(MatcherBasic, LeftRecursionIsAnError) {
  auto rules = std::make_shared<RuleSet>();
  rules->bodies.push_back(nullptr);
  rules->bodies[0] = choice({sequence({rule_ref(rules.get(), 0), literal("a")}), literal("b")});
  auto g = compile(scope(rules, rule_ref(rules.get(), 0)));
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().find("left recursion"), std::string::npos) << g.error();
  rules->bodies.clear();  // break the ownership cycle
}

TEST(MatcherBasic, RightRecursionWorks) {
  auto rules = std::make_shared<RuleSet>();
  rules->bodies.push_back(
      choice({sequence({literal("("), rule_ref(rules.get(), 0), literal(")")}), literal("x")}));
  auto g = compile(scope(rules, rule_ref(rules.get(), 0)));
  ASSERT_TRUE(g.ok()) << g.error();
  EXPECT_TRUE(byte_accepts(*g, "x"));
  EXPECT_TRUE(byte_accepts(*g, "(((x)))"));
  EXPECT_FALSE(byte_accepts(*g, "((x)"));
  rules->bodies.clear();
}

TEST(MatcherBasic, RecursiveNestsToAnyDepth) {
  NodePtr list = recursive([](const NodePtr& self) {
    return sequence({literal("["), repeat(choice({self, literal("x")}), 0, -1), literal("]")});
  });
  auto g = compile(list);
  ASSERT_TRUE(g.ok()) << g.error();
  EXPECT_TRUE(byte_accepts(*g, "[]"));
  EXPECT_TRUE(byte_accepts(*g, "[x[x]x]"));
  EXPECT_TRUE(byte_accepts(*g, std::string(40, '[') + std::string(40, ']')));
  EXPECT_FALSE(byte_accepts(*g, "[[x]"));
  EXPECT_FALSE(byte_accepts(*g, "[y]"));
}

}  // namespace
}  // namespace sluice::structured
