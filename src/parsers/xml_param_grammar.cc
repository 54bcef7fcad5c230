#include "parsers/xml_param_grammar.h"

#include <set>

#include "parsers/calls_grammar_util.h"
#include "parsers/qwen3_coder_grammar.h"

namespace sluice::parsers {
namespace {

using namespace structured;

Result<NodePtr> params_node(const Json& function, const XmlGrammarMarkup& m) {
  const Json* props = nullptr;
  const Json* params = function.contains("parameters") ? &function["parameters"] : nullptr;
  if (params && params->is_object() && params->contains("properties") &&
      (*params)["properties"].is_object()) {
    props = &(*params)["properties"];
  }
  if (props == nullptr || props->empty()) {
    return repeat(
        sequence({literal(m.key_open), text_until(m.key_close), text_until(m.value_close)}), 0, -1);
  }
  std::set<std::string> required;
  if (params->contains("required") && (*params)["required"].is_array()) {
    for (const Json& r : (*params)["required"]) {
      if (r.is_string()) required.insert(r.get<std::string>());
    }
  }
  std::vector<NodePtr> parts;
  for (const auto& [name, schema] : props->items()) {
    NodePtr head = literal(m.key_open + name + m.key_close);
    NodePtr param;
    if (param_kind(&schema) == ParamKind::kString) {
      param = sequence({head, text_until(m.value_close)});
    } else {
      SLUICE_ASSIGN_OR_RETURN(NodePtr value, json_schema(schema));
      param = sequence({head, value, literal(m.value_close)});
    }
    parts.push_back(required.count(name) ? param : repeat(param, 0, 1));
  }
  return sequence(std::move(parts));
}

}  // namespace

Result<NodePtr> xml_param_calls_grammar(const ToolSpec& tools,
                                        const std::optional<std::string>& only, int min_calls,
                                        int max_calls, const XmlGrammarMarkup& m) {
  std::vector<NodePtr> calls;
  for (const Json* fn : tool_functions(tools)) {
    std::string name = function_name(*fn);
    if (only && name != *only) continue;
    SLUICE_ASSIGN_OR_RETURN(NodePtr params, params_node(*fn, m));
    calls.push_back(
        sequence({literal(m.call_open + name + m.name_close), params, literal(m.call_close)}));
  }
  if (calls.empty()) {
    return Status::error("tool_grammar", only ? "no tool named '" + *only + "'" : "no tools");
  }
  NodePtr call = calls.size() == 1 ? calls[0] : choice(std::move(calls));
  SLUICE_ASSIGN_OR_RETURN(NodePtr all, separated(call, m.separator, min_calls, max_calls));
  return sequence({literal(m.section_open), all, literal(m.section_close)});
}

}  // namespace sluice::parsers
