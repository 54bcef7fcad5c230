#pragma once
// OpenAI response bodies and SSE chunks (chat completions and completions) built from the
// engine's RequestOutput deltas; logprob token texts come from the tokenizer's raw token bytes.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "api/assistant_output.h"
#include "api/http/http_util.h"
#include "api/openai/openai_params.h"
#include "engine/request.h"
#include "tokenizer/tokenizer.h"

namespace sluice::api {

struct ResponseMeta {
  OpenAIEndpoint endpoint = OpenAIEndpoint::kChat;
  std::string id;  // "chatcmpl-<n>" / "cmpl-<n>"
  int64_t created = 0;
  std::string model;
  int32_t n = 1;
  bool logprobs = false;
  int32_t top_logprobs = 0;
  bool include_usage = false;
  const Tokenizer* tokenizer = nullptr;
  std::shared_ptr<const OutputPlan> plan;  // chat: how to split text into reasoning/content/tools
};

// "stop" / "length"; an aborted request (it ran past --request-timeout) reads "length": it was
// cut short, which is what "length" tells a client (OpenAI has no "abort").
const char* openai_finish_reason(FinishReason r);
Json usage_json(const RequestStats& s);

// The non-streaming body of a finished request (`all`: deltas merged per sequence).
Json build_response(const ResponseMeta& m, const RequestOutput& all);

// Turns a request's outputs into SSE text, chunk by chunk.
class StreamEncoder {
 public:
  explicit StreamEncoder(ResponseMeta m);
  // Chat: one {role: "assistant", content: ""} chunk per choice. Completions: "".
  std::string start();
  // Chunks for this step's deltas; when `out` finishes, the usage chunk (if asked) and [DONE].
  std::string on_output(const RequestOutput& out);
  // An error after the stream started: an OpenAI error object as data, then [DONE].
  std::string error(const ApiError& e);

 private:
  Json chunk(Json choices) const;

  // Chat: this step's text of one choice -> delta chunks (content, reasoning, tool calls).
  std::string chat_chunks(const SequenceDelta& d, Json logprobs);

  ResponseMeta m_;
  std::vector<int64_t> text_offset_;  // completions logprobs: per choice, characters so far
  std::vector<std::unique_ptr<AssistantOutputParser>> parsers_;  // chat, per choice
  std::vector<bool> called_tools_;                               // per choice
};

}  // namespace sluice::api
