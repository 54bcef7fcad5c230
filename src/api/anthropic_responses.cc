#include "api/anthropic_responses.h"

#include <algorithm>

namespace sluice::api {

AnthropicUsage anthropic_usage(const RequestStats& stats) {
  AnthropicUsage u;
  const int64_t prompt = stats.num_prompt_tokens;
  u.cache_read_input_tokens = std::clamp<int64_t>(stats.num_cached_tokens, 0, prompt);
  u.input_tokens = prompt - u.cache_read_input_tokens;
  u.output_tokens = stats.num_output_tokens;
  return u;
}

Json usage_json(const AnthropicUsage& u) {
  return Json{{"input_tokens", u.input_tokens},
              {"cache_creation_input_tokens", u.cache_creation_input_tokens},
              {"cache_read_input_tokens", u.cache_read_input_tokens},
              {"output_tokens", u.output_tokens}};
}

AnthropicStop anthropic_stop(const SequenceDelta& last, const std::vector<std::string>& stops) {
  // A matched stop sequence wins even when the length limit came in the same step: the text ends
  // at it. The engine's "token:<id>" (end of turn) is never one of the request's sequences.
  if (!last.stop_reason.empty() &&
      std::find(stops.begin(), stops.end(), last.stop_reason) != stops.end())
    return {"stop_sequence", last.stop_reason};
  if (last.finish_reason == FinishReason::kLength) return {"max_tokens", nullptr};
  return {"end_turn", nullptr};
}

Json message_json(const std::string& id, const std::string& model, const std::string& text,
                  const AnthropicStop& stop, const AnthropicUsage& usage) {
  return Json{{"id", id},
              {"type", "message"},
              {"role", "assistant"},
              {"model", model},
              {"content", Json::array({Json{{"type", "text"}, {"text", text}}})},
              {"stop_reason", stop.reason},
              {"stop_sequence", stop.sequence},
              {"usage", usage_json(usage)}};
}

std::string message_start_event(const std::string& id, const std::string& model,
                                int64_t num_prompt_tokens) {
  AnthropicUsage u;
  u.input_tokens = num_prompt_tokens;
  Json message = {{"id", id},
                  {"type", "message"},
                  {"role", "assistant"},
                  {"model", model},
                  {"content", Json::array()},
                  {"stop_reason", nullptr},
                  {"stop_sequence", nullptr},
                  {"usage", usage_json(u)}};
  return sse_event("message_start",
                   Json{{"type", "message_start"}, {"message", std::move(message)}});
}

std::string content_block_start_event() {
  return sse_event("content_block_start",
                   Json{{"type", "content_block_start"},
                        {"index", 0},
                        {"content_block", Json{{"type", "text"}, {"text", ""}}}});
}

std::string ping_event() {
  return sse_event("ping", Json{{"type", "ping"}});
}

std::string text_delta_event(const std::string& text) {
  return sse_event("content_block_delta",
                   Json{{"type", "content_block_delta"},
                        {"index", 0},
                        {"delta", Json{{"type", "text_delta"}, {"text", text}}}});
}

std::string content_block_stop_event() {
  return sse_event("content_block_stop", Json{{"type", "content_block_stop"}, {"index", 0}});
}

std::string message_delta_event(const AnthropicStop& stop, const AnthropicUsage& usage) {
  return sse_event(
      "message_delta",
      Json{{"type", "message_delta"},
           {"delta", Json{{"stop_reason", stop.reason}, {"stop_sequence", stop.sequence}}},
           {"usage", usage_json(usage)}});
}

std::string message_stop_event() {
  return sse_event("message_stop", Json{{"type", "message_stop"}});
}

std::string error_event(const ApiError& e) {
  return "event: error\ndata: " + error_body(e, Protocol::kAnthropic) + "\n\n";
}

}  // namespace sluice::api
