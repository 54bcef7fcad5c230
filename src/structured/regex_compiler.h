#pragma once
// A regex subset -> node over decoded UTF-8 bytes (JSON Schema `pattern`, string formats).
// Supported: literals, escapes (\d \w \s \D \W \S \t \n \r \f \v \xHH \uHHHH, escaped
// punctuation), classes [...] with ranges and negation, '.', groups ( ) (?: ) (?<name> ),
// alternation, quantifiers * + ? {n} {n,} {n,m} (lazy forms too), ^ at the start and $ at the end
// of a top-level alternative. Unanchored sides match anything (search semantics, like Python's
// re.search). Errors: backreferences, lookaround, word boundaries, inline flags, possessive.
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "structured/grammar_node.h"

namespace sluice::structured {

using CodeRange = std::pair<uint32_t, uint32_t>;  // inclusive code point range

Result<NodePtr> compile_regex(std::string_view pattern);
// Code point ranges -> UTF-8 byte sequences (surrogates excluded).
NodePtr utf8_ranges_node(const std::vector<CodeRange>& ranges);
NodePtr any_code_point();  // any valid UTF-8 character, newline included

}  // namespace sluice::structured
