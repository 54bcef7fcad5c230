#pragma once
// The output-shaping fields of an OpenAI request: tools, tool_choice, parallel_tool_calls,
// response_format (json_object / json_schema), enable_thinking (top level or in
// chat_template_kwargs) and thinking_budget.
#include "api/json_fields.h"
#include "api/output_request.h"

namespace sluice::api {

// Completions read only response_format.
OutputRequest parse_openai_output(const Json& body, bool chat);

}  // namespace sluice::api
