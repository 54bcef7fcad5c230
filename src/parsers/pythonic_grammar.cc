#include "parsers/pythonic_grammar.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <set>

#include "parsers/calls_grammar_util.h"
#include "parsers/text_scan.h"

namespace sluice::parsers {
namespace {

using namespace structured;

// item (", " item)* between min and max items (max < 0: unbounded).
NodePtr comma_list(NodePtr item, int min, int max) {
  if (max == 0) return literal("");
  NodePtr more =
      repeat(sequence({literal(", "), item}), std::max(0, min - 1), max < 0 ? -1 : max - 1);
  NodePtr items = sequence({item, more});
  return min == 0 ? repeat(items, 0, 1) : items;
}

NodePtr json_string() {
  static const NodePtr node = *json_schema(Json{{"type", "string"}});
  return node;
}

// {"key": value, ...} with JSON-quoted keys.
NodePtr dict_of(const NodePtr& value) {
  NodePtr member = sequence({json_string(), literal(": "), value});
  return sequence({literal("{"), comma_list(member, 0, -1), literal("}")});
}

// Any literal, nested to any depth (one recursive rule, built once).
NodePtr any_value() {
  static const NodePtr value = recursive([](const NodePtr& self) {
    NodePtr number = *json_schema(Json{{"type", "number"}});
    return choice({json_string(), number, literal("True"), literal("False"), literal("None"),
                   sequence({literal("["), comma_list(self, 0, -1), literal("]")}), dict_of(self)});
  });
  return value;
}

NodePtr any_dict() {
  return dict_of(any_value());
}

// Any keyword arguments: identifier=value, ...
NodePtr any_keywords() {
  std::vector<NodePtr> first, rest;
  for (int c = 0; c < 128; ++c) {
    const bool alpha = std::isalpha(c) || c == '_';
    if (alpha) first.push_back(literal(std::string(1, static_cast<char>(c))));
    if (alpha || std::isdigit(c)) rest.push_back(literal(std::string(1, static_cast<char>(c))));
  }
  NodePtr name = sequence({choice(std::move(first)), repeat(choice(std::move(rest)), 0, -1)});
  return comma_list(sequence({name, literal("="), any_value()}), 0, -1);
}

// Members in schema order, required ones mandatory, ", " only between the ones written:
// tail(i) = members i.. each after a separator; head(i) = the first written member is i or later.
NodePtr ordered_members(const std::vector<NodePtr>& members, const std::vector<bool>& required) {
  NodePtr tail = literal(""), head = literal("");
  for (size_t i = members.size(); i-- > 0;) {
    NodePtr from_here = sequence({members[i], tail});
    head = required[i] ? from_here : choice({from_here, head});
    NodePtr after_comma = sequence({literal(", "), members[i]});
    tail = sequence({required[i] ? after_comma : repeat(after_comma, 0, 1), tail});
  }
  return head;
}

Result<NodePtr> value_node(const Json& schema);

// key_text(name) writes one member's head: `name=` for arguments, `"name": ` in a dict.
Result<NodePtr> members_node(const Json& schema,
                             const std::function<std::string(const std::string&)>& key_text) {
  std::set<std::string> required;
  if (schema.contains("required") && schema["required"].is_array()) {
    for (const Json& r : schema["required"])
      if (r.is_string()) required.insert(r.get<std::string>());
  }
  std::vector<NodePtr> members;
  std::vector<bool> must;
  for (const auto& [key, sub] : schema["properties"].items()) {
    SLUICE_ASSIGN_OR_RETURN(NodePtr value, value_node(sub));
    members.push_back(sequence({literal(key_text(key)), value}));
    must.push_back(required.count(key) > 0);
  }
  return ordered_members(members, must);
}

bool has_properties(const Json& schema) {
  return schema.contains("properties") && schema["properties"].is_object() &&
         !schema["properties"].empty();
}

Result<NodePtr> typed_node(const std::string& type, const Json& schema) {
  if (type == "string" || type == "integer" || type == "number") {
    Json scalar = schema;  // JSON strings and numbers are Python literals too
    scalar["type"] = type;
    for (const char* k : {"enum", "const", "anyOf", "oneOf"}) scalar.erase(k);
    return json_schema(scalar);
  }
  if (type == "boolean") return choice({literal("True"), literal("False")});
  if (type == "null") return literal("None");
  if (type == "object") {
    if (!has_properties(schema)) return any_dict();
    SLUICE_ASSIGN_OR_RETURN(NodePtr members, members_node(schema, [](const std::string& k) {
                              return json_quote(k) + ": ";
                            }));
    return sequence({literal("{"), members, literal("}")});
  }
  if (type == "array") {
    NodePtr item = any_value();
    if (schema.contains("items") && schema["items"].is_object()) {
      SLUICE_ASSIGN_OR_RETURN(item, value_node(schema["items"]));
    }
    int min = schema.value("minItems", 0), max = schema.value("maxItems", -1);
    return sequence({literal("["), comma_list(item, min, max), literal("]")});
  }
  return Status::error("tool_grammar", "pythonic: unsupported type '" + type + "'");
}

Result<NodePtr> value_node(const Json& schema) {
  static const ValueSyntax syntax{"pythonic", python_literal_text, typed_node, any_value};
  return schema_value_node(schema, syntax);
}

}  // namespace

std::string python_literal_text(const Json& value) {
  if (value.is_boolean()) return value.get<bool>() ? "True" : "False";
  if (value.is_null()) return "None";
  if (value.is_object()) {
    std::string s = "{";
    for (const auto& [key, sub] : value.items()) {
      if (s.size() > 1) s += ", ";
      s += json_quote(key) + ": " + python_literal_text(sub);
    }
    return s + "}";
  }
  if (value.is_array()) {
    std::string s = "[";
    for (const Json& item : value) {
      if (s.size() > 1) s += ", ";
      s += python_literal_text(item);
    }
    return s + "]";
  }
  return value.dump();  // strings (JSON escapes are Python escapes) and numbers
}

std::string pythonic_calls_text(const std::vector<std::pair<std::string, Json>>& calls) {
  std::string s = "[";
  for (const auto& [name, arguments] : calls) {
    if (s.size() > 1) s += ", ";
    s += name + "(";
    bool first = true;
    for (const auto& [key, value] : arguments.items()) {
      if (!first) s += ", ";
      first = false;
      s += key + "=" + python_literal_text(value);
    }
    s += ")";
  }
  return s + "]";
}

Result<NodePtr> pythonic_calls_grammar(const ToolSpec& tools,
                                       const std::optional<std::string>& only, int min_calls,
                                       int max_calls) {
  std::vector<NodePtr> calls;
  for (const Json* fn : tool_functions(tools)) {
    std::string name = function_name(*fn);
    if (only && name != *only) continue;
    const Json* params = fn->contains("parameters") ? &(*fn)["parameters"] : nullptr;
    NodePtr args = literal("");  // no parameters: no arguments (OpenAI's reading)
    if (params && params->is_object() && has_properties(*params)) {
      SLUICE_ASSIGN_OR_RETURN(args,
                              members_node(*params, [](const std::string& k) { return k + "="; }));
    } else if (params && !params->is_null()) {
      args = any_keywords();
    }
    calls.push_back(sequence({literal(name + "("), args, literal(")")}));
  }
  if (calls.empty()) {
    return Status::error("tool_grammar", only ? "no tool named '" + *only + "'" : "no tools");
  }
  NodePtr call = calls.size() == 1 ? calls[0] : choice(std::move(calls));
  SLUICE_ASSIGN_OR_RETURN(NodePtr all, separated(call, ", ", min_calls, max_calls));
  return sequence({literal("["), all, literal("]")});
}

}  // namespace sluice::parsers
