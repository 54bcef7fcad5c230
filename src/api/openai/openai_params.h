#pragma once
// OpenAI request bodies (chat completions, completions) -> native request parts. Every known field
// is type-checked with a 400 naming it; fields that would change the output but are not supported
// yet are rejected by name; unknown vendor extras are ignored (logged when SLUICE_DEBUG is set).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api/json_fields.h"
#include "api/output_request.h"
#include "engine/sampling_params.h"

namespace sluice::api {

enum class OpenAIEndpoint { kChat, kCompletions };

struct OpenAIRequest {
  OpenAIEndpoint endpoint = OpenAIEndpoint::kChat;
  std::optional<std::string> model;
  SamplingParams params;
  std::string max_tokens_field;  // the field that set params.max_tokens; empty: not given
  bool skip_special_tokens = true;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool logprobs = false;       // chat: logprobs == true; completions: logprobs given
  int32_t top_logprobs = 0;    // alternatives per token (chat top_logprobs, completions logprobs)
  std::string cache_salt;      // vLLM extra: isolates this request's prefix-cache entries
  // Chat: messages as given (chat_prompt validates them) and template kwargs.
  Json messages;
  Json template_kwargs;
  bool add_generation_prompt = true;
  // Completions: a text prompt, or token ids when prompt_is_tokens.
  std::string prompt_text;
  std::vector<int32_t> prompt_tokens;
  bool prompt_is_tokens = false;
  OutputRequest output;  // tools, response_format, thinking
};

// Throws ApiError (400 with `param`) for wrong types, out-of-range values and unsupported fields.
// vocab_size bounds logit_bias and stop_token_ids.
OpenAIRequest parse_openai_request(const Json& body, OpenAIEndpoint endpoint, int32_t vocab_size);

// The request field an engine field name stands for: "prompt" -> prompt_param ("messages" in
// chat), "logprobs" -> chat's "top_logprobs", "max_tokens" -> the field that set it.
std::string openai_field(const std::string& engine_param, const OpenAIRequest& r,
                         const std::string& prompt_param);

// Sets params.max_tokens when the request left it out: what remains of the context, capped by
// what the KV cache can hold. Throws 400 naming `prompt_param` when nothing remains.
void apply_default_max_tokens(OpenAIRequest& r, int64_t num_prompt_tokens, int64_t max_model_len,
                              int64_t kv_capacity_tokens, const std::string& prompt_param);

}  // namespace sluice::api
