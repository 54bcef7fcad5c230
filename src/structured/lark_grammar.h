#pragma once
// Lark grammars (the EBNF subset of OpenAI's custom-tool `format: {syntax: "lark"}`) -> a node
// tree for constrained decoding. The language is the grammar read as a context-free grammar over
// bytes: a rule's items are concatenated, terminals match their text exactly (regexes fully).
// Supported: rules and terminals (`name: ...`, `NAME: ...`, `?rule`, `!rule`, `_rule`, `.N`
// priorities and `-> alias` accepted and ignored: they shape Lark's tree, not the language),
// "strings" with Python escapes and the `i` flag, "a".."z" ranges, /regex/ with flags i and s
// (regex_compiler.h syntax), | ( ) [ ] ? * + ~n ~n..m, `//` comments, `%import common.X` and
// `%import common (X, Y)` for the terminals of Lark's common.lark, `%ignore X` (X may then come
// before every terminal of a rule and at the end), start rule `start`. Direct left recursion
// (`a: a x | y`) is rewritten to `y x*`; indirect left recursion is an error.
// Errors read "[lark] line:col what".
#include <string_view>

#include "structured/grammar.h"

namespace sluice::structured {

Result<NodePtr> lark_grammar(std::string_view text);
// A whole-input regex (OpenAI's `syntax: "regex"`): the text must match all of it.
Result<NodePtr> full_regex(std::string_view pattern);

}  // namespace sluice::structured
