#pragma once
// Gemma 4's calls grammar: <|tool_call>call:NAME{ARGS}<tool_call|> per call, nothing between.
// ARGS follow the function's schema in Gemma's syntax (gemma4_value.h) as its template writes
// them: keys bare and sorted, strings between <|"|> marks (free text: enum and const are
// enforced, pattern and length are not), numbers and booleans as JSON. Untyped values and objects
// without properties take any Gemma value nested at most 3 deep; a function without parameters
// takes "{}".
#include <optional>
#include <string>

#include "parsers/tool_spec_util.h"
#include "structured/grammar.h"

namespace sluice::parsers {

Result<structured::NodePtr> gemma4_calls_grammar(const ToolSpec& tools,
                                                 const std::optional<std::string>& only,
                                                 int min_calls, int max_calls);

// A JSON value in Gemma's syntax, keys sorted and bare (what its template writes for arguments).
std::string gemma4_text(const Json& value);

}  // namespace sluice::parsers
