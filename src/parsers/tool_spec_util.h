#pragma once
// Reading a ToolSpec: its functions (the OpenAI `{"type": "function", "function": {...}}` wrapper
// is accepted too), one by name, and a parameter's declared JSON type.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/tool_parser.h"

namespace sluice::parsers {

using Json = nlohmann::ordered_json;

std::vector<const Json*> tool_functions(const ToolSpec& tools);
const Json* find_function(const ToolSpec& tools, std::string_view name);  // nullptr: unknown
std::string function_name(const Json& function);
// The schema of one parameter of a function; nullptr when the function does not declare it.
const Json* parameter_schema(const Json* function, std::string_view param);

}  // namespace sluice::parsers
