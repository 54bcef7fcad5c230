#pragma once
// The pythonic calls grammar: [name(key=value, key=value), name()] with ", " between calls and
// between arguments, as pythonic_calls_text() writes them. Arguments follow the function's schema
// in schema order (required ones mandatory, optional ones optional), values as Python literals:
// strings as JSON strings (valid Python), numbers as JSON, True/False/None, lists, dicts with
// JSON-quoted keys. Untyped values and objects without properties take any literal, nested to
// any depth; a function without parameters takes no arguments.
#include <optional>
#include <string>

#include "parsers/tool_spec_util.h"
#include "structured/grammar.h"

namespace sluice::parsers {

Result<structured::NodePtr> pythonic_calls_grammar(const ToolSpec& tools,
                                                   const std::optional<std::string>& only,
                                                   int min_calls, int max_calls);

// A JSON value as a Python literal: {"a": [1, True, None, "x"]}.
std::string python_literal_text(const Json& value);
// Calls as the model writes them: [f(a=1, b="x"), g()]; each item is {name, arguments object}.
std::string pythonic_calls_text(const std::vector<std::pair<std::string, Json>>& calls);

}  // namespace sluice::parsers
