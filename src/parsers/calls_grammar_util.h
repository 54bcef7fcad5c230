#pragma once
// Pieces every format's calls_grammar() uses: the callable functions, each one's arguments node,
// and "item (separator item)*" bounded by the call counts.
#include <functional>
#include <optional>
#include <string>

#include "parsers/tool_spec_util.h"
#include "structured/grammar.h"

namespace sluice::parsers {

using structured::NodePtr;

// The arguments of one function: its `parameters` schema, or any JSON object when it has none.
Result<NodePtr> arguments_node(const Json& function);
// One alternative per callable function (`only`: just that one; an error when it is not a tool),
// each built by make_call(function, its arguments node).
Result<NodePtr> function_choice(const ToolSpec& tools, const std::optional<std::string>& only,
                                const std::function<NodePtr(const Json&, NodePtr)>& make_call);
// One alternative per callable function of the JSON call object
// before{"name": "f", "<args_key>": ARGS}after.
Result<NodePtr> json_call_choice(const ToolSpec& tools, const std::optional<std::string>& only,
                                 const std::string& args_key, const std::string& before = "",
                                 const std::string& after = "");
// item (separator item)*, between min_calls and max_calls items (max_calls < 0: unbounded);
// an error for counts that allow no output at all.
Result<NodePtr> separated(NodePtr item, const std::string& separator, int min_calls, int max_calls);

// How a call format that is not JSON (Gemma 4, pythonic) writes values: a constant's text, a
// node per JSON type (which may walk sub-schemas back through schema_value_node), any value.
struct ValueSyntax {
  const char* name;  // in errors: "<name>: unsupported type 'x'"
  std::string (*text)(const Json& value);
  Result<NodePtr> (*typed)(const std::string& type, const Json& schema);
  NodePtr (*any)();
};
// A tool parameter's JSON schema as a node of that syntax: enum/const, anyOf/oneOf, type (or a
// list of types), properties or items alone; an empty schema is any value. $ref, allOf and not
// are errors.
Result<NodePtr> schema_value_node(const Json& schema, const ValueSyntax& syntax);

}  // namespace sluice::parsers
