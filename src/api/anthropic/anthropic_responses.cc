#include "api/anthropic/anthropic_responses.h"

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

AnthropicStop anthropic_stop(const SequenceDelta& last, const std::vector<std::string>& stops,
                             bool called_tools) {
  AnthropicStop stop = anthropic_stop(last, stops);
  if (called_tools && stop.reason == "end_turn") stop.reason = "tool_use";
  return stop;
}

Json content_blocks(const AssistantMessage& m) {
  Json blocks = Json::array();
  if (!m.reasoning.empty())
    blocks.push_back({{"type", "thinking"}, {"thinking", m.reasoning}, {"signature", ""}});
  if (!m.content.empty() || (m.calls.empty() && m.reasoning.empty()))
    blocks.push_back({{"type", "text"}, {"text", m.content}});
  for (const AssistantMessage::Call& c : m.calls) {
    Json input = parse_json_or_discarded(c.arguments.empty() ? "{}" : c.arguments);
    if (input.is_discarded() || !input.is_object()) {
      blocks.push_back({{"type", "text"}, {"text", c.arguments}});
      continue;
    }
    blocks.push_back({{"type", "tool_use"}, {"id", c.id}, {"name", c.name}, {"input", input}});
  }
  return blocks;
}

Json message_json(const std::string& id, const std::string& model, Json content,
                  const AnthropicStop& stop, const AnthropicUsage& usage) {
  return Json{{"id", id},
              {"type", "message"},
              {"role", "assistant"},
              {"model", model},
              {"content", std::move(content)},
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

std::string BlockStreamWriter::open(Block b, Json content_block) {
  std::string out = close_current();
  current_ = b;
  ++index_;
  return out + sse_event("content_block_start", Json{{"type", "content_block_start"},
                                                     {"index", index_},
                                                     {"content_block", std::move(content_block)}});
}

std::string BlockStreamWriter::delta(Json d) {
  return sse_event(
      "content_block_delta",
      Json{{"type", "content_block_delta"}, {"index", index_}, {"delta", std::move(d)}});
}

std::string BlockStreamWriter::close_current() {
  if (current_ == Block::kNone) return "";
  current_ = Block::kNone;
  return sse_event("content_block_stop", Json{{"type", "content_block_stop"}, {"index", index_}});
}

std::string BlockStreamWriter::on_events(const std::vector<AssistantEvent>& events) {
  using K = AssistantEvent::Kind;
  std::string out;
  for (const AssistantEvent& e : events) {
    switch (e.kind) {
      case K::kReasoning:
        if (current_ != Block::kThinking)
          out +=
              open(Block::kThinking, {{"type", "thinking"}, {"thinking", ""}, {"signature", ""}});
        out += delta({{"type", "thinking_delta"}, {"thinking", e.text}});
        break;
      case K::kContent:
        if (current_ != Block::kText) out += open(Block::kText, {{"type", "text"}, {"text", ""}});
        out += delta({{"type", "text_delta"}, {"text", e.text}});
        break;
      case K::kToolBegin:
        called_tools_ = true;
        out += open(Block::kToolUse, {{"type", "tool_use"},
                                      {"id", e.tool_id},
                                      {"name", e.tool_name},
                                      {"input", Json::object()}});
        break;
      case K::kToolArguments:
        if (current_ == Block::kToolUse)
          out += delta({{"type", "input_json_delta"}, {"partial_json", e.text}});
        break;
      case K::kToolEnd:
        out += close_current();
        break;
    }
  }
  return out;
}

std::string BlockStreamWriter::close() {
  if (index_ < 0) return open(Block::kText, {{"type", "text"}, {"text", ""}}) + close_current();
  return close_current();
}

}  // namespace sluice::api
