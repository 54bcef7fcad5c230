#include "parsers/tool_spec_util.h"

namespace sluice::parsers {

std::vector<const Json*> tool_functions(const ToolSpec& tools) {
  std::vector<const Json*> out;
  if (!tools.functions.is_array()) return out;
  for (const Json& entry : tools.functions) {
    const Json* fn = &entry;
    if (entry.is_object() && entry.contains("function") && entry["function"].is_object()) {
      fn = &entry["function"];
    }
    if (fn->is_object() && fn->contains("name") && (*fn)["name"].is_string()) out.push_back(fn);
  }
  return out;
}

std::string function_name(const Json& function) {
  return function["name"].get<std::string>();
}

const Json* find_function(const ToolSpec& tools, std::string_view name) {
  for (const Json* fn : tool_functions(tools)) {
    if ((*fn)["name"].get_ref<const std::string&>() == name) return fn;
  }
  return nullptr;
}

const Json* parameter_schema(const Json* function, std::string_view param) {
  if (function == nullptr || !function->contains("parameters")) return nullptr;
  const Json& params = (*function)["parameters"];
  if (!params.is_object() || !params.contains("properties")) return nullptr;
  const Json& props = params["properties"];
  if (!props.is_object()) return nullptr;
  auto it = props.find(std::string(param));
  return it == props.end() ? nullptr : &*it;
}

}  // namespace sluice::parsers
