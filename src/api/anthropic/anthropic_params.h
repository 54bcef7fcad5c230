#pragma once
// Anthropic Messages API request bodies -> OpenAI-shaped chat messages (for build_chat_prompt)
// and SamplingParams, with every JSON type checked (a wrong type is a 400, never a 500).
#include <cstdint>
#include <string>
#include <vector>

#include "api/json_fields.h"
#include "api/model_context.h"
#include "api/output_plan.h"
#include "api/output_request.h"
#include "engine/sampling_params.h"

namespace sluice::api {

struct AnthropicPrompt {
  std::string model;
  Json messages = Json::array();  // [{role, content: string}], the system message first
  std::string prefill;            // a final assistant turn: the reply continues from it
  OutputRequest output;           // tools, tool_choice, thinking, output_format
};

struct AnthropicRequest {
  AnthropicPrompt prompt;
  SamplingParams params;
  bool stream = false;
};

// model, system, messages (text, tool_use, tool_result, thinking blocks), tools, tool_choice,
// thinking, output_format; image and document blocks are rejected. The body of
// POST /v1/messages/count_tokens; other fields are ignored (a stderr line under SLUICE_DEBUG).
AnthropicPrompt parse_anthropic_prompt(const Json& body);

// POST /v1/messages: the prompt plus max_tokens (required), temperature, top_p, top_k,
// stop_sequences, metadata and stream.
AnthropicRequest parse_anthropic_request(const Json& body);

struct AnthropicPromptTokens {
  std::vector<int32_t> tokens;
  std::string text;                  // the rendered prompt
  std::shared_ptr<OutputPlan> plan;  // tools / thinking / format as planned for this model
  std::vector<ImageInput> images;    // with their placeholder ranges in `tokens`
};
// Renders the chat template over the messages (and tools) and appends the prefill, if any.
AnthropicPromptTokens anthropic_prompt_tokens(const ModelContext& ctx, const AnthropicPrompt& p);

}  // namespace sluice::api
