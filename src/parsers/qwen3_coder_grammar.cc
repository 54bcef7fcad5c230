#include "parsers/qwen3_coder_grammar.h"

#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

#include "common/json_shape.h"
#include "parsers/calls_grammar_util.h"
#include "parsers/text_scan.h"

namespace sluice::parsers {
namespace {

using namespace structured;

ParamKind kind_of_type(const std::string& type) {
  if (type == "number" || type == "integer") return ParamKind::kNumber;
  if (type == "boolean") return ParamKind::kBoolean;
  if (type == "null") return ParamKind::kNull;
  if (type == "object" || type == "array") return ParamKind::kJson;
  return ParamKind::kString;
}

std::string lower_trimmed(std::string_view s) {
  size_t b = skip_json_space(s);
  size_t e = s.size();
  while (e > b && is_json_space(s[e - 1])) --e;
  std::string out(s.substr(b, e - b));
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// <parameter=NAME>\nVALUE\n</parameter>\n; `name_and_close` is NAME and its '>'.
NodePtr text_param(NodePtr name_and_close) {
  return sequence({literal("<parameter="), name_and_close, literal("\n"),
                   text_until("\n</parameter>"), literal("\n")});
}

// The parameters of one function, in schema order.
Result<NodePtr> params_node(const Json& function) {
  const Json* props = nullptr;
  if (function.contains("parameters") && function["parameters"].is_object() &&
      function["parameters"].contains("properties") &&
      function["parameters"]["properties"].is_object()) {
    props = &function["parameters"]["properties"];
  }
  if (props == nullptr || props->empty()) return repeat(text_param(text_until(">")), 0, -1);
  std::set<std::string> required;
  const Json& params = function["parameters"];
  if (params.contains("required") && params["required"].is_array()) {
    for (const Json& r : params["required"]) {
      if (r.is_string()) required.insert(r.get<std::string>());
    }
  }
  std::vector<NodePtr> parts;
  for (const auto& [name, schema] : props->items()) {
    NodePtr param;
    if (param_kind(&schema) == ParamKind::kString) {
      param = text_param(literal(name + ">"));
    } else {
      SLUICE_ASSIGN_OR_RETURN(NodePtr value, json_schema(schema));
      param = sequence({literal("<parameter=" + name + ">\n"), value, literal("\n</parameter>\n")});
    }
    parts.push_back(required.count(name) ? param : repeat(param, 0, 1));
  }
  return sequence(std::move(parts));
}

}  // namespace

ParamKind param_kind(const Json* schema) {
  if (schema == nullptr || !schema->is_object()) return ParamKind::kString;
  if (!schema->contains("type")) return ParamKind::kJson;  // anyOf, $ref, ...: JSON if it parses
  const Json& type = (*schema)["type"];
  if (type.is_string()) return kind_of_type(type.get<std::string>());
  if (type.is_array()) {  // ["integer", "null"]: strings win, else the first non-null type
    ParamKind kind = ParamKind::kNull;
    for (const Json& t : type) {
      if (!t.is_string()) continue;
      ParamKind k = kind_of_type(t.get<std::string>());
      if (k == ParamKind::kString) return k;
      if (kind == ParamKind::kNull) kind = k;
    }
    return kind == ParamKind::kNull ? ParamKind::kJson : kind;
  }
  return ParamKind::kString;
}

std::string typed_param_value(std::string_view raw, ParamKind kind) {
  std::string word = lower_trimmed(raw);
  if (kind == ParamKind::kBoolean && (word == "true" || word == "false")) return word;
  if (kind == ParamKind::kNull && (word == "null" || word == "none")) return "null";
  if ((kind == ParamKind::kNumber || kind == ParamKind::kJson) && !json_shape_error(raw)) {
    auto j = nlohmann::json::parse(raw, nullptr, /*allow_exceptions=*/false);
    bool fits = kind == ParamKind::kNumber ? j.is_number() : !j.is_discarded();
    if (fits) return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return json_quote(raw);
}

Result<NodePtr> qwen3_coder_calls_grammar(const ToolSpec& tools,
                                          const std::optional<std::string>& only, int min_calls,
                                          int max_calls) {
  std::vector<NodePtr> calls;
  for (const Json* fn : tool_functions(tools)) {
    std::string name = function_name(*fn);
    if (only && name != *only) continue;
    SLUICE_ASSIGN_OR_RETURN(NodePtr params, params_node(*fn));
    calls.push_back(sequence({literal("<tool_call>\n<function=" + name + ">\n"), params,
                              literal("</function>\n</tool_call>")}));
  }
  if (calls.empty()) {
    return Status::error("tool_grammar", only ? "no tool named '" + *only + "'" : "no tools");
  }
  NodePtr call = calls.size() == 1 ? calls[0] : choice(std::move(calls));
  return separated(call, "\n", min_calls, max_calls);
}

}  // namespace sluice::parsers
