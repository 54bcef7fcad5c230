// Lark grammars (OpenAI custom tools) -> grammars: the language, the directives, the errors.
#include "structured/lark_grammar.h"

#include <gtest/gtest.h>

#include "structured_test_util.h"

namespace sluice::structured {
namespace {

std::shared_ptr<const Grammar> lark(const std::string& text) {
  auto node = lark_grammar(text);
  EXPECT_TRUE(node.ok()) << node.error();
  if (!node.ok()) return nullptr;
  auto g = compile(*node);
  EXPECT_TRUE(g.ok()) << g.error();
  return g.ok() ? *g : nullptr;
}

std::string lark_error(const std::string& text) {
  auto node = lark_grammar(text);
  if (!node.ok()) return node.error();
  auto g = compile(*node);
  return g.ok() ? "" : g.error();
}

// Codex's apply_patch tool grammar (openai/codex, codex-rs/core tool_apply_patch.lark).
constexpr const char* kApplyPatch = R"g(start: begin_patch hunk+ end_patch
begin_patch: "*** Begin Patch" LF
end_patch: "*** End Patch" LF?

hunk: add_hunk | delete_hunk | update_hunk
add_hunk: "*** Add File: " filename LF add_line+
delete_hunk: "*** Delete File: " filename LF
update_hunk: "*** Update File: " filename LF change_move? change?

filename: /(.+)/
add_line: "+" /(.*)/ LF -> line

change_move: "*** Move to: " filename LF
change: (change_context | change_line)+ eof_line?
change_context: ("@@" | "@@ " /(.+)/) LF
change_line: ("+" | "-" | " ") /(.*)/ LF
eof_line: "*** End of File" LF

%import common.LF
)g";

TEST(LarkGrammar, ApplyPatchAcceptsRealPatches) {
  auto g = lark(kApplyPatch);
  ASSERT_TRUE(g);
  EXPECT_TRUE(byte_accepts(g,
                           "*** Begin Patch\n"
                           "*** Add File: hello.txt\n"
                           "+Hello world\n"
                           "+\n"
                           "*** End Patch\n"));
  EXPECT_TRUE(byte_accepts(g,
                           "*** Begin Patch\n"
                           "*** Update File: src/app.py\n"
                           "*** Move to: src/main.py\n"
                           "@@ def greet():\n"
                           "-print(\"Hi\")\n"
                           "+print(\"Hello, world!\")\n"
                           " return 0\n"
                           "*** End of File\n"
                           "*** Delete File: obsolete.txt\n"
                           "*** End Patch"));
  EXPECT_TRUE(byte_accepts(g, "*** Begin Patch\n*** Update File: a\n@@\n x\n*** End Patch\n"));
}

TEST(LarkGrammar, ApplyPatchRejectsBrokenPatches) {
  auto g = lark(kApplyPatch);
  ASSERT_TRUE(g);
  EXPECT_FALSE(byte_accepts(g, "*** Begin Patch\n*** End Patch\n"));                   // no hunk
  EXPECT_FALSE(byte_accepts(g, "*** Begin Patch\n*** Add File: a\n*** End Patch\n"));  // no line
  EXPECT_FALSE(byte_accepts(g, "*** Begin Patch\n*** Add File: a\nhello\n*** End Patch\n"));
  EXPECT_FALSE(byte_accepts(g, "*** Begin Patch\n*** Update File: a\n?x\n*** End Patch\n"));
  EXPECT_FALSE(byte_accepts(g, "*** Begin Patch\n*** Delete File: \n*** End Patch\n"));
  EXPECT_FALSE(byte_accepts(g, "*** Begin Patch\n*** Delete File: a\n"));  // no end
  EXPECT_FALSE(byte_accepts(g, "--- a/x\n+++ b/x\n"));
}

TEST(LarkGrammar, LiteralsEscapesAndCaseInsensitivity) {
  auto g = lark("start: \"a\\tb\\\\\" \"\\u00e9\" \"select\"i \"\\x41\"\n");
  ASSERT_TRUE(g);
  EXPECT_TRUE(byte_accepts(g, "a\tb\\\xC3\xA9SeLeCtA"));
  EXPECT_FALSE(byte_accepts(g, "a\tb\\\xC3\xA9selecta"));  // only "select" folds case
}

TEST(LarkGrammar, OperatorsAndRanges) {
  auto g = lark(R"g(start: x ~ 2 y ~ 1..3 [z] (p | q)+ r*
x: "x"
y: "0".."2"
z: "z"
p: "p"
q: "q"
r: "r"
)g");
  ASSERT_TRUE(g);
  EXPECT_TRUE(byte_accepts(g, "xx0p"));
  EXPECT_TRUE(byte_accepts(g, "xx012zqprr"));
  EXPECT_FALSE(byte_accepts(g, "x0p"));      // ~ 2
  EXPECT_FALSE(byte_accepts(g, "xx0123p"));  // ~ 1..3
  EXPECT_FALSE(byte_accepts(g, "xx3p"));     // "0".."2"
  EXPECT_FALSE(byte_accepts(g, "xx0zz"));    // (p|q)+ needs one
}

TEST(LarkGrammar, RegexFlagsAndFullMatch) {
  auto g = lark("start: /ab+/ /x.y/s /k[a-c]/i\n");
  ASSERT_TRUE(g);
  EXPECT_TRUE(byte_accepts(g, "abbx\nyKC"));
  EXPECT_FALSE(byte_accepts(g, "zabbx\nyKC"));  // a terminal's regex matches all of its text
  EXPECT_FALSE(byte_accepts(g, "abbxyyk"));
}

TEST(LarkGrammar, RecursionAndDirectLeftRecursion) {
  auto g = lark(R"g(?start: sum
sum: sum "+" product | sum "-" product | product
product: product "*" atom | atom
atom: NUMBER | "(" sum ")"
%import common.NUMBER
)g");
  ASSERT_TRUE(g);
  EXPECT_TRUE(byte_accepts(g, "1+2*3"));
  EXPECT_TRUE(byte_accepts(g, "(1.5-2e3)*(4+(5))"));
  EXPECT_FALSE(byte_accepts(g, "1+"));
  EXPECT_FALSE(byte_accepts(g, "(1+2"));
  EXPECT_FALSE(byte_accepts(g, "1 + 2"));  // no %ignore: no spaces
}

TEST(LarkGrammar, IgnoreAllowsTextBeforeEveryTerminal) {
  auto g = lark(R"g(start: "[" [NUMBER ("," NUMBER)*] "]"
%import common (NUMBER, WS)
%ignore WS
)g");
  ASSERT_TRUE(g);
  EXPECT_TRUE(byte_accepts(g, "[1,2]"));
  EXPECT_TRUE(byte_accepts(g, " [ 1 ,\n 2 ] \n"));
  EXPECT_FALSE(byte_accepts(g, "[1 2]"));
  EXPECT_FALSE(byte_accepts(g, "[1, 2]x"));
}

TEST(LarkGrammar, CommonTerminals) {
  auto g = lark(R"g(start: CNAME "=" (ESCAPED_STRING | SIGNED_NUMBER) NEWLINE
%import common.CNAME
%import common.ESCAPED_STRING
%import common.SIGNED_NUMBER
%import common.NEWLINE
)g");
  ASSERT_TRUE(g);
  EXPECT_TRUE(byte_accepts(g, "_x1=\"a\\\"b\"\n"));
  EXPECT_TRUE(byte_accepts(g, "v=-12.5e+3\r\n"));
  EXPECT_FALSE(byte_accepts(g, "1x=2\n"));
  EXPECT_FALSE(byte_accepts(g, "x=\"a\"b\"\n"));
  auto aliased = lark("start: DIGITS\n%import common.INT -> DIGITS\n");
  ASSERT_TRUE(aliased);
  EXPECT_TRUE(byte_accepts(aliased, "0042"));
}

TEST(LarkGrammar, ContinuationLinesAndComments) {
  auto g =
      lark("// a comment\nstart: \"a\" // trailing\n     | \"b\"\n     | (\"c\"\n        \"d\")\n");
  ASSERT_TRUE(g);
  EXPECT_TRUE(byte_accepts(g, "a"));
  EXPECT_TRUE(byte_accepts(g, "b"));
  EXPECT_TRUE(byte_accepts(g, "cd"));
  EXPECT_FALSE(byte_accepts(g, "ab"));
}

TEST(LarkGrammar, Errors) {
  EXPECT_EQ(lark_error("start: foo\n"), "[lark] 1:8 undefined rule 'foo'");
  EXPECT_EQ(lark_error("start: \"a\"\n\nx: FOO\n"), "[lark] 3:4 undefined terminal 'FOO'");
  EXPECT_EQ(lark_error("a: \"x\"\n"), "[lark] 1:1 the grammar has no 'start' rule");
  EXPECT_EQ(lark_error("start: \"a\"\n%import common.NOPE\n"),
            "[lark] 2:16 unknown import common.NOPE");
  EXPECT_EQ(lark_error("start: X\n%import foo.X\n"),
            "[lark] 2:9 unknown import module 'foo' (only 'common' is built in)");
  EXPECT_EQ(lark_error("start: (\"a\"\n"), "[lark] 2:1 expected ')', got end of grammar");
  EXPECT_EQ(lark_error("start \"a\"\n"), "[lark] 1:7 expected ':', got a string");
  EXPECT_EQ(lark_error("start: \"a\n"), "[lark] 1:8 unterminated string");
  EXPECT_EQ(lark_error("start: /a(/\n"),
            "[lark] 1:8 bad regular expression: [pattern] missing ')' at offset 2 of /a(/");
  EXPECT_EQ(lark_error("start: /a/x\n"), "[lark] 1:8 regex flag 'x' is not supported");
  EXPECT_EQ(lark_error("start: A\nA: A \"x\"\n"), "[lark] 2:4 terminal 'A' refers to itself");
  EXPECT_EQ(lark_error("start: A\nA: b\nb: \"x\"\n"),
            "[lark] 2:4 a terminal cannot refer to rule 'b'");
  EXPECT_EQ(lark_error("start: \"a\"\nstart: \"b\"\n"),
            "[lark] 2:1 'start' is defined more than once");
  EXPECT_EQ(lark_error("start: a\na: a\n"),
            "[lark] 2:4 rule 'a' has an alternative that is itself");
  EXPECT_EQ(lark_error("start: sep{\"a\"}\n"), "[lark] 1:8 templates are not supported");
  EXPECT_EQ(lark_error("%declare X\nstart: X\n"), "[lark] 1:1 %declare is not supported");
  EXPECT_EQ(lark_error("start: \"a\" ~ 3..1\n"), "[lark] 1:12 repetition ~ n..m with m < n");
  EXPECT_EQ(lark_error("start: a\na: b \"x\" | \"y\"\nb: [\"q\"] a \"z\"\n"),
            "[lark] 3:10 left recursion through a -> b -> a (only direct left recursion, a: a x "
            "| y, is supported)");
  EXPECT_EQ(lark_error("start: a\na: b* \"x\" | \"y\"\nb: \"q\" | a\n"),
            "[lark] 3:10 left recursion through a -> b -> a (only direct left recursion, a: a x "
            "| y, is supported)");
  // Right recursion and recursion after input are fine.
  EXPECT_EQ(lark_error("start: \"(\" start \")\" | \"x\" start?\n"), "");
}

TEST(LarkGrammar, FullRegex) {
  auto node = full_regex("[a-z]+|\\d{3}");
  ASSERT_TRUE(node.ok()) << node.error();
  auto g = compile(*node);
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(byte_accepts(*g, "abc"));
  EXPECT_TRUE(byte_accepts(*g, "123"));
  EXPECT_FALSE(byte_accepts(*g, "abc1"));
  EXPECT_FALSE(full_regex("(?=x)").ok());
}

}  // namespace
}  // namespace sluice::structured
