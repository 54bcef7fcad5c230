#include "parsers/calls_grammar_util.h"

#include <algorithm>

#include "parsers/text_scan.h"

namespace sluice::parsers {

using namespace structured;

Result<NodePtr> arguments_node(const Json& function) {
  if (!function.contains("parameters") || function["parameters"].is_null())
    return any_json_object();
  return json_schema(function["parameters"]);
}

Result<NodePtr> function_choice(const ToolSpec& tools, const std::optional<std::string>& only,
                                const std::function<NodePtr(const Json&, NodePtr)>& make_call) {
  std::vector<NodePtr> calls;
  for (const Json* fn : tool_functions(tools)) {
    if (only && function_name(*fn) != *only) continue;
    SLUICE_ASSIGN_OR_RETURN(NodePtr args, arguments_node(*fn));
    calls.push_back(make_call(*fn, std::move(args)));
  }
  if (calls.empty()) {
    return Status::error("tool_grammar", only ? "no tool named '" + *only + "'" : "no tools");
  }
  return calls.size() == 1 ? calls[0] : choice(std::move(calls));
}

Result<NodePtr> json_call_choice(const ToolSpec& tools, const std::optional<std::string>& only,
                                 const std::string& args_key, const std::string& before,
                                 const std::string& after) {
  return function_choice(tools, only, [&](const Json& fn, NodePtr args) {
    std::string head =
        before + "{\"name\": " + json_quote(function_name(fn)) + ", \"" + args_key + "\": ";
    return sequence({literal(head), args, literal("}" + after)});
  });
}

Result<NodePtr> separated(NodePtr item, const std::string& separator, int min_calls,
                          int max_calls) {
  if (min_calls < 0 || max_calls == 0 || (max_calls > 0 && max_calls < min_calls)) {
    return Status::error("tool_grammar", "bad call counts " + std::to_string(min_calls) + ".." +
                                             std::to_string(max_calls));
  }
  int more_max = max_calls < 0 ? -1 : max_calls - 1;
  NodePtr more = repeat(sequence({literal(separator), item}), std::max(0, min_calls - 1), more_max);
  NodePtr calls = sequence({item, more});
  return min_calls == 0 ? repeat(calls, 0, 1) : calls;
}

Result<NodePtr> schema_value_node(const Json& schema, const ValueSyntax& syntax) {
  using structured::choice;
  using structured::literal;
  const std::string name = syntax.name;
  if (!schema.is_object() || schema.empty()) return syntax.any();
  for (const char* k : {"$ref", "allOf", "not"}) {
    if (schema.contains(k))
      return Status::error("tool_grammar", name + ": unsupported schema keyword '" + k + "'");
  }
  std::vector<NodePtr> options;
  if (schema.contains("enum") || schema.contains("const")) {
    const Json values = schema.contains("const") ? Json::array({schema["const"]}) : schema["enum"];
    for (const Json& v : values) options.push_back(literal(syntax.text(v)));
  } else if (schema.contains("anyOf") || schema.contains("oneOf")) {
    for (const Json& branch : schema.contains("anyOf") ? schema["anyOf"] : schema["oneOf"]) {
      SLUICE_ASSIGN_OR_RETURN(NodePtr node, schema_value_node(branch, syntax));
      options.push_back(node);
    }
  } else if (schema.contains("type")) {
    const Json& type = schema["type"];
    for (const Json& t : type.is_array() ? type : Json::array({type})) {
      if (!t.is_string()) return Status::error("tool_grammar", name + ": bad type " + t.dump());
      SLUICE_ASSIGN_OR_RETURN(NodePtr node, syntax.typed(t.get<std::string>(), schema));
      options.push_back(node);
    }
  } else if (schema.contains("properties")) {
    return syntax.typed("object", schema);
  } else if (schema.contains("items")) {
    return syntax.typed("array", schema);
  } else {
    return syntax.any();
  }
  if (options.empty()) return Status::error("tool_grammar", name + ": a schema allows no value");
  return options.size() == 1 ? options[0] : choice(std::move(options));
}

}  // namespace sluice::parsers
