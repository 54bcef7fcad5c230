#pragma once
// Qwen3-Coder parameter typing (shared by its parser and its grammar) and its calls grammar.
#include <optional>
#include <string>
#include <string_view>

#include "parsers/tool_spec_util.h"
#include "structured/grammar.h"

namespace sluice::parsers {

// How a parameter's value text becomes JSON, from its schema: strings stay text; the others are
// parsed. No schema (undeclared parameter): string; a schema without "type": JSON if it parses.
enum class ParamKind { kString, kNumber, kBoolean, kNull, kJson };
ParamKind param_kind(const Json* schema);
// A non-string parameter's JSON: parsed when it parses as its kind (booleans also True/False,
// null also None), else the text as a JSON string.
std::string typed_param_value(std::string_view raw, ParamKind kind);

// <tool_call>\n<function=f>\n<parameter=p>\nVALUE\n</parameter>\n...</function>\n</tool_call>,
// calls separated by "\n". Declared parameters in schema order (required ones mandatory);
// string values are free text (their enum/pattern are not enforced), others follow their schema.
// A function that declares no properties takes any parameters with text values.
Result<structured::NodePtr> qwen3_coder_calls_grammar(const ToolSpec& tools,
                                                      const std::optional<std::string>& only,
                                                      int min_calls, int max_calls);

}  // namespace sluice::parsers
