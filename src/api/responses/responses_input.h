#pragma once
// Responses API input items -> chat messages for the chat template. Items: message (roles user,
// assistant, system, developer; content a string or input_text / output_text / refusal parts),
// function_call, function_call_output, custom_tool_call, custom_tool_call_output (as a function
// call with arguments {"input": ...} and its result, custom_tools.h) and reasoning; any other item
// or part type is a 400 naming it (param "input").
#include <optional>
#include <string>

#include "api/json_fields.h"

namespace sluice::api {

// `input` (a string or a list of items) -> normalized items: a string becomes one user message;
// message content becomes a list of {type, text} parts; function_call_output's output a string.
// Other fields of an item (id, status, annotations) are kept as given.
Json normalize_input_items(const Json& input);

// Normalized items (a stored conversation, then this request's input) -> OpenAI-shaped chat
// messages: instructions and system / developer messages form one leading system message;
// consecutive assistant items (message, function_call) one assistant turn with tool_calls;
// reasoning items become the next assistant turn's reasoning_content (dropped when no assistant
// turn follows); function_call_output a "tool" turn named after its call.
Json chat_messages(const Json& items, const std::optional<std::string>& instructions);

}  // namespace sluice::api
