#pragma once
// Responses API request bodies (POST /v1/responses, /v1/responses/input_tokens) -> native request
// parts. Every field is type-checked with a 400 naming it; fields this server does not implement
// (background, conversation, hosted tools, ...) are rejected by name unless they hold their
// default, and unknown fields are rejected as OpenAI rejects them.
#include <optional>
#include <string>

#include "api/json_fields.h"
#include "api/output_request.h"
#include "api/responses/custom_tools.h"
#include "engine/sampling_params.h"

namespace sluice::api {

enum class ResponsesEndpoint { kCreate, kInputTokens };

struct ResponsesRequest {
  std::optional<std::string> model;
  Json input = Json::array();  // this request's items, normalized (responses_input.h)
  std::optional<std::string> instructions;
  std::string previous_response_id;  // empty: none
  OutputRequest output;              // tools, tool_choice, text.format, reasoning.effort
  CustomToolSet custom;              // custom tools (also among output.tools as functions)
  SamplingParams params;             // temperature, top_p; max_tokens once the prompt is known
  std::optional<int32_t> max_output_tokens;
  bool stream = false;
  bool store = true;
  bool encrypted_reasoning = false;  // include: reasoning.encrypted_content
  std::string cache_salt;            // prompt_cache_key
  // The request's fields as a response object echoes them, defaults filled in: instructions,
  // max_output_tokens, parallel_tool_calls, previous_response_id, reasoning, store, temperature,
  // text, tool_choice, tools, top_p, truncation, user, metadata.
  Json echo = Json::object();
};

ResponsesRequest parse_responses_request(const Json& body, ResponsesEndpoint endpoint);

}  // namespace sluice::api
