#pragma once
// Responses API `custom` tools: {type: "custom", name, description, format: {type: "text"} |
// {type: "grammar", syntax: "lark" | "regex", definition}}. A call's input is free text or text
// in the grammar's language.
//  - tool_choice {type: "custom", name}: the model's whole output is the input, constrained by
//    the grammar (no other tool is offered; a system line names the tool and its grammar).
//  - Otherwise the chat template sees the tool as a function with one string parameter `input`
//    (its description names the grammar); a call to it comes back as a custom_tool_call, whose
//    input is checked against the grammar afterwards: status "incomplete" when it does not match.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/json_fields.h"
#include "structured/grammar.h"

namespace sluice::api {

struct ModelContext;

struct CustomTool {
  std::string name, description;
  std::string syntax;  // "" (free text), "lark" or "regex"
  std::string definition;
  std::string param;                                   // "tools[i].format.definition"
  std::shared_ptr<const structured::Grammar> grammar;  // set by compile_custom_tools
  Result<structured::NodePtr> root() const;            // the grammar's node tree
  std::string cache_key() const { return "custom:" + syntax + ":" + definition; }
};

struct CustomToolSet {
  std::vector<CustomTool> tools;
  std::string forced;  // tool_choice {type: custom}: its name
  const CustomTool* find(const std::string& name) const;
  bool empty() const { return tools.empty(); }
};

// tools[i] of type custom -> `out` and the function the chat template sees; returns its echo.
// Shape errors are 400s naming the field (tools[i].name, tools[i].format, ...).
Json parse_custom_tool(const Json& tool, size_t index, CustomTool& out, Json& function);

// Compiles every grammar (cached in ctx.grammars): errors are 400s with param
// tools[i].format.definition and the grammar's "[lark] line:col what" message.
void compile_custom_tools(ModelContext& ctx, CustomToolSet& set);

// The system line for a forced custom tool.
std::string forced_tool_instructions(const CustomTool& tool);

// A function call's arguments ({"input": ...}) -> the input; nullopt when they are not that.
std::optional<std::string> custom_input_from_arguments(const std::string& arguments);
// Whether `input` is valid for the tool (free text always is).
bool custom_input_matches(const CustomTool& tool, const std::string& input);

}  // namespace sluice::api
