#include "parsers/gemma4_grammar.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "parsers/calls_grammar_util.h"
#include "parsers/gemma4_value.h"

namespace sluice::parsers {
namespace {

using namespace structured;

NodePtr gemma_string() {
  return sequence({literal(std::string(kGemmaQuote)), text_until(std::string(kGemmaQuote))});
}

// item (',' item)* between min and max items (max < 0: unbounded).
NodePtr comma_list(NodePtr item, int min, int max) {
  if (max == 0) return literal("");
  NodePtr more =
      repeat(sequence({literal(","), item}), std::max(0, min - 1), max < 0 ? -1 : max - 1);
  NodePtr items = sequence({item, more});
  return min == 0 ? repeat(items, 0, 1) : items;
}

// {key:value,...} with bare keys and any members.
NodePtr object_of(const NodePtr& value) {
  std::vector<NodePtr> key_chars;
  for (int c = 0; c < 128; ++c) {
    if (std::isalnum(c) || c == '_' || c == '-' || c == '.')
      key_chars.push_back(literal(std::string(1, static_cast<char>(c))));
  }
  NodePtr key = repeat(choice(std::move(key_chars)), 1, -1);
  NodePtr member = sequence({key, literal(":"), value});
  return sequence({literal("{"), comma_list(member, 0, -1), literal("}")});
}

// Any Gemma value, nested to any depth (one recursive rule, built once).
NodePtr any_value() {
  static const NodePtr value = recursive([](const NodePtr& self) {
    NodePtr number = *json_schema(Json{{"type", "number"}});
    return choice({gemma_string(), number, literal("true"), literal("false"), literal("null"),
                   object_of(self),
                   sequence({literal("["), comma_list(self, 0, -1), literal("]")})});
  });
  return value;
}

NodePtr any_object() {
  return object_of(any_value());
}

Result<NodePtr> value_node(const Json& schema);

// {key:value,...}: declared properties in sorted order, required ones mandatory, commas only
// between the ones written.
Result<NodePtr> object_node(const Json& schema) {
  const Json& props = schema["properties"];
  std::set<std::string> required;
  if (schema.contains("required") && schema["required"].is_array()) {
    for (const Json& r : schema["required"])
      if (r.is_string()) required.insert(r.get<std::string>());
  }
  std::vector<std::string> keys;
  for (const auto& [key, sub] : props.items()) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  std::vector<NodePtr> members;
  for (const std::string& key : keys) {
    SLUICE_ASSIGN_OR_RETURN(NodePtr value, value_node(props[key]));
    members.push_back(sequence({literal(key + ":"), value}));
  }
  // tail(i): members i.. each after a comma; head(i): the first written member is i or later.
  NodePtr tail = literal(""), head = literal("");
  for (size_t i = keys.size(); i-- > 0;) {
    const bool must = required.count(keys[i]) > 0;
    NodePtr rest_after_first = sequence({members[i], tail});
    head = must ? rest_after_first : choice({rest_after_first, head});
    NodePtr after_comma = sequence({literal(","), members[i]});
    tail = sequence({must ? after_comma : repeat(after_comma, 0, 1), tail});
  }
  return sequence({literal("{"), head, literal("}")});
}

Result<NodePtr> typed_node(const std::string& type, const Json& schema) {
  if (type == "string") return gemma_string();
  if (type == "object") {
    if (schema.contains("properties") && schema["properties"].is_object() &&
        !schema["properties"].empty())
      return object_node(schema);
    return any_object();
  }
  if (type == "array") {
    NodePtr item = any_value();
    if (schema.contains("items") && schema["items"].is_object()) {
      SLUICE_ASSIGN_OR_RETURN(item, value_node(schema["items"]));
    }
    int min = schema.value("minItems", 0), max = schema.value("maxItems", -1);
    return sequence({literal("["), comma_list(item, min, max), literal("]")});
  }
  if (type == "integer" || type == "number" || type == "boolean" || type == "null") {
    Json scalar = {{"type", type}};  // written as in JSON
    for (const char* k : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
      if (schema.contains(k)) scalar[k] = schema[k];
    return json_schema(scalar);
  }
  return Status::error("tool_grammar", "gemma4: unsupported type '" + type + "'");
}

Result<NodePtr> value_node(const Json& schema) {
  static const ValueSyntax syntax{"gemma4", gemma4_text, typed_node, any_value};
  return schema_value_node(schema, syntax);
}

}  // namespace

std::string gemma4_text(const Json& value) {
  if (value.is_string()) {
    return std::string(kGemmaQuote) + value.get<std::string>() + std::string(kGemmaQuote);
  }
  if (value.is_object()) {
    std::vector<std::string> keys;
    for (const auto& [key, sub] : value.items()) keys.push_back(key);
    std::sort(keys.begin(), keys.end());
    std::string s = "{";
    for (const std::string& key : keys) {
      if (s.size() > 1) s += ',';
      s += key + ":" + gemma4_text(value[key]);
    }
    return s + "}";
  }
  if (value.is_array()) {
    std::string s = "[";
    for (const Json& item : value) {
      if (s.size() > 1) s += ',';
      s += gemma4_text(item);
    }
    return s + "]";
  }
  return value.dump();  // numbers, true, false, null
}

Result<NodePtr> gemma4_calls_grammar(const ToolSpec& tools, const std::optional<std::string>& only,
                                     int min_calls, int max_calls) {
  std::vector<NodePtr> calls;
  for (const Json* fn : tool_functions(tools)) {
    std::string name = function_name(*fn);
    if (only && name != *only) continue;
    // No parameters: an empty parameter list (OpenAI's reading); no properties: any members.
    const Json* params = fn->contains("parameters") ? &(*fn)["parameters"] : nullptr;
    NodePtr args = literal("{}");
    if (params && params->is_object() && params->contains("properties") &&
        (*params)["properties"].is_object() && !(*params)["properties"].empty()) {
      SLUICE_ASSIGN_OR_RETURN(args, object_node(*params));
    } else if (params && !params->is_null()) {
      args = any_object();
    }
    calls.push_back(sequence({literal("<|tool_call>call:" + name), args, literal("<tool_call|>")}));
  }
  if (calls.empty()) {
    return Status::error("tool_grammar", only ? "no tool named '" + *only + "'" : "no tools");
  }
  NodePtr call = calls.size() == 1 ? calls[0] : choice(std::move(calls));
  return separated(call, "", min_calls, max_calls);
}

}  // namespace sluice::parsers
