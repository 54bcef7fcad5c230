#pragma once
// Responses API output: the response object, its usage, and the output items built from the
// assistant's parsed events (assistant_output.h), each change also written as the SSE events
// OpenAI streams: output_item.added, content_part.added, output_text.delta / reasoning_text.delta /
// function_call_arguments.delta / custom_tool_call_input.delta, their .done events,
// content_part.done, output_item.done; every event "event: TYPE\ndata: {type, ...,
// sequence_number}". Non-streamed responses build their items with the same writer, so both agree.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api/assistant_output.h"
#include "api/json_fields.h"
#include "api/responses/custom_tools.h"
#include "engine/request.h"

namespace sluice::api {

struct ResponseHead {
  std::string id;  // "resp_..."
  int64_t created_at = 0;
  std::string model;
  Json echo = Json::object();  // the request's echoed fields (ResponsesRequest::echo)
};

// {input_tokens, input_tokens_details: {cached_tokens}, output_tokens,
//  output_tokens_details: {reasoning_tokens}, total_tokens}
Json responses_usage(const RequestStats& stats, int64_t reasoning_tokens);

// The response object. status: in_progress | completed | incomplete (incomplete_details.reason
// max_output_tokens) | failed (`error`: {code, message}). usage null until known.
Json response_json(const ResponseHead& head, const std::string& status, Json output, Json usage,
                   Json error = nullptr);

// A reasoning item's `encrypted_content` (include: reasoning.encrypted_content): the reasoning
// text, opaque to the client, read back into the prompt when the item is sent again (this server
// keeps no secret from its own client, so the text is encoded, not encrypted).
std::string encode_reasoning(const std::string& text);
std::optional<std::string> decode_reasoning(const std::string& content);

class ResponseOutputWriter {
 public:
  explicit ResponseOutputWriter(bool encrypted_reasoning = false)
      : encrypted_reasoning_(encrypted_reasoning) {}
  // Custom tools (custom_tools.h): calls to them become custom_tool_call items; with a forced
  // one, all content is its input (leading whitespace dropped when `trim_input_start`).
  void set_custom_tools(const CustomToolSet* custom, bool trim_input_start) {
    custom_ = custom;
    trim_input_start_ = trim_input_start;
  }
  // response.created and response.in_progress (the response's status is "in_progress").
  std::string start(const Json& response);
  std::string on_events(const std::vector<AssistantEvent>& events);
  // Closes the open item, "incomplete" when the output was cut at max_output_tokens; an output
  // with no item gets an empty message.
  std::string finish(bool incomplete);
  // response.completed, response.incomplete or response.failed, by the response's status.
  std::string end(const Json& response);

  const Json& items() const { return items_; }
  const std::string& reasoning() const { return reasoning_; }  // all reasoning text

 private:
  enum class Open { kNone, kReasoning, kMessage, kCall, kCustom };
  std::string event(const char* type, Json fields);
  std::string open(Open kind, Json item);
  std::string close(const char* status);
  std::string text_delta(Open kind, const std::string& text);
  Json where() const;  // {item_id, output_index}
  std::string open_custom(const std::string& name, const std::string& call_id);
  std::string custom_delta(const std::string& text);

  Json items_ = Json::array();
  Open open_ = Open::kNone;
  std::string text_;  // the open item's text or arguments
  std::string reasoning_;
  int64_t sequence_ = 0;
  bool encrypted_reasoning_ = false;
  const CustomToolSet* custom_ = nullptr;
  bool trim_input_start_ = false;
  bool forced_call_opened_ = false;
  std::string custom_arguments_;  // a custom tool called as a function: its arguments so far
};

}  // namespace sluice::api
