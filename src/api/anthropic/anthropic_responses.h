#pragma once
// Anthropic Messages API response bodies and SSE events (message_start, content_block_start,
// ping, content_block_delta, content_block_stop, message_delta, message_stop, error).
#include <cstdint>
#include <string>
#include <vector>

#include "api/api_error.h"
#include "api/assistant_output.h"
#include "api/http/http_util.h"
#include "engine/request.h"

namespace sluice::api {

// Anthropic's total input = input_tokens + cache_creation_input_tokens + cache_read_input_tokens.
// Prefix caching here is automatic and writing to it costs nothing extra, so no token is billed as
// a cache write: cache_creation is always 0, cache_read = prompt tokens found in the prefix cache,
// input_tokens = the rest; input_tokens + cache_read_input_tokens = the prompt (= count_tokens).
struct AnthropicUsage {
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t cache_read_input_tokens = 0;
  int64_t cache_creation_input_tokens = 0;
};
AnthropicUsage anthropic_usage(const RequestStats& stats);
Json usage_json(const AnthropicUsage& u);

struct AnthropicStop {
  std::string reason;  // end_turn | max_tokens | stop_sequence
  Json sequence;       // the matched stop sequence, or null
};
// From a finished sequence (finish_reason stop or length); `stops` are the request's sequences.
AnthropicStop anthropic_stop(const SequenceDelta& last, const std::vector<std::string>& stops);

// tool_use when the output holds tool calls and ended on its own.
AnthropicStop anthropic_stop(const SequenceDelta& last, const std::vector<std::string>& stops,
                             bool called_tools);

// The content blocks of an assistant message: thinking, text, tool_use (input parsed from the
// arguments; arguments that are not a JSON object become a text block).
Json content_blocks(const AssistantMessage& m);
// The non-streaming Message object.
Json message_json(const std::string& id, const std::string& model, Json content,
                  const AnthropicStop& stop, const AnthropicUsage& usage);

// SSE events, each "event: NAME\ndata: JSON\n\n" with data.type == NAME. message_start goes out
// before the prompt is scheduled: its usage counts the whole prompt as input_tokens (the cache hit
// is not known yet) and 0 output tokens; message_delta carries the final cumulative usage.
std::string message_start_event(const std::string& id, const std::string& model,
                                int64_t num_prompt_tokens);
std::string content_block_start_event();  // an empty text block at index 0
std::string ping_event();
std::string text_delta_event(const std::string& text);
std::string content_block_stop_event();
std::string message_delta_event(const AnthropicStop& stop, const AnthropicUsage& usage);
std::string message_stop_event();
// An error after the stream started: "event: error" with the Anthropic error body.
std::string error_event(const ApiError& e);

// Content-block events for a stream whose output is parsed (thinking, text, tool_use): a block
// opens when its first event arrives and closes when another kind comes or the output ends.
class BlockStreamWriter {
 public:
  std::string on_events(const std::vector<AssistantEvent>& events);
  std::string close();  // closes the open block (an empty text block if none was ever opened)
  bool called_tools() const { return called_tools_; }

 private:
  enum class Block { kNone, kThinking, kText, kToolUse };
  std::string open(Block b, Json content_block);
  std::string delta(Json d);
  std::string close_current();

  Block current_ = Block::kNone;
  int index_ = -1;
  bool called_tools_ = false;
};

}  // namespace sluice::api
