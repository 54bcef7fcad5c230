#include "api/openai/openai_responses.h"

#include <algorithm>
#include <cmath>

#include "tokenizer/utf8.h"

namespace sluice::api {

namespace {

// JSON has no -inf; vLLM's convention for "impossible" is -9999.
double finite_logprob(float lp) {
  return std::isfinite(lp) ? std::max(lp, -9999.0f) : -9999.0;
}

struct TokenText {
  std::string text;  // valid UTF-8 (invalid bytes replaced)
  Json bytes;        // the token's raw bytes
};

TokenText token_text(const Tokenizer& tok, int32_t id) {
  const std::string raw = tok.token_bytes(id, false);
  TokenText t{utf8::sanitize(raw), Json::array()};
  for (unsigned char c : raw) t.bytes.push_back(static_cast<int>(c));
  return t;
}

int64_t num_chars(const std::string& s) {
  int64_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Chat: [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}]
Json chat_logprobs(const ResponseMeta& m, const std::vector<SampleOutput>& lps) {
  Json content = Json::array();
  for (const SampleOutput& so : lps) {
    TokenText t = token_text(*m.tokenizer, so.token);
    Json top = Json::array();
    for (size_t i = 0; i < so.top.size() && i < static_cast<size_t>(m.top_logprobs); ++i) {
      TokenText a = token_text(*m.tokenizer, so.top[i].token);
      top.push_back({{"token", std::move(a.text)},
                     {"logprob", finite_logprob(so.top[i].logprob)},
                     {"bytes", std::move(a.bytes)}});
    }
    content.push_back({{"token", std::move(t.text)},
                       {"logprob", finite_logprob(so.logprob)},
                       {"bytes", std::move(t.bytes)},
                       {"top_logprobs", std::move(top)}});
  }
  return Json{{"content", std::move(content)}};
}

// Completions: {tokens, token_logprobs, top_logprobs: [{token: logprob}], text_offset}; each
// top_logprobs entry holds the top k and the chosen token (so up to k + 1 entries, as OpenAI).
Json completion_logprobs(const ResponseMeta& m, const std::vector<SampleOutput>& lps,
                         int64_t& offset) {
  Json tokens = Json::array(), token_logprobs = Json::array(), top = Json::array(),
       offsets = Json::array();
  for (const SampleOutput& so : lps) {
    std::string text = token_text(*m.tokenizer, so.token).text;
    Json alts = Json::object();
    for (size_t i = 0; i < so.top.size() && i < static_cast<size_t>(m.top_logprobs); ++i) {
      std::string alt = token_text(*m.tokenizer, so.top[i].token).text;
      if (!alts.contains(alt)) alts[alt] = finite_logprob(so.top[i].logprob);
    }
    if (!alts.contains(text)) alts[text] = finite_logprob(so.logprob);
    tokens.push_back(text);
    token_logprobs.push_back(finite_logprob(so.logprob));
    top.push_back(std::move(alts));
    offsets.push_back(offset);
    offset += num_chars(text);
  }
  return Json{{"tokens", std::move(tokens)},
              {"token_logprobs", std::move(token_logprobs)},
              {"top_logprobs", std::move(top)},
              {"text_offset", std::move(offsets)}};
}

Json finish_json(const std::optional<FinishReason>& r) {
  return r ? Json(openai_finish_reason(*r)) : Json(nullptr);
}

}  // namespace

const char* openai_finish_reason(FinishReason r) {
  switch (r) {
    case FinishReason::kStop:
      return "stop";
    case FinishReason::kLength:
    case FinishReason::kAbort:
      return "length";
    case FinishReason::kError:
      return "error";
  }
  return "stop";
}

Json usage_json(const RequestStats& s) {
  return Json{{"prompt_tokens", s.num_prompt_tokens},
              {"completion_tokens", s.num_output_tokens},
              {"total_tokens", s.num_prompt_tokens + s.num_output_tokens},
              {"prompt_tokens_details", {{"cached_tokens", s.num_cached_tokens}}}};
}

Json build_response(const ResponseMeta& m, const RequestOutput& all) {
  const bool chat = m.endpoint == OpenAIEndpoint::kChat;
  Json choices = Json::array();
  for (int32_t i = 0; i < m.n; ++i) {
    // A sequence aborted before it started has no delta: it reads as empty.
    static const SequenceDelta kEmpty;
    auto it = std::find_if(all.deltas.begin(), all.deltas.end(),
                           [&](const SequenceDelta& d) { return d.index == i; });
    const SequenceDelta& d = it != all.deltas.end() ? *it : kEmpty;
    const Json finish = it != all.deltas.end() ? finish_json(d.finish_reason)
                                               : Json(openai_finish_reason(FinishReason::kAbort));
    Json logprobs = nullptr;
    if (chat) {
      if (m.logprobs) logprobs = chat_logprobs(m, d.logprobs);
      Json message = {{"role", "assistant"}, {"content", d.text}};
      Json finish_reason = finish;
      if (m.plan) {
        const AssistantMessage a = parse_assistant_text(*m.plan, d.text, "call_");
        message["content"] =
            a.content.empty() && !a.calls.empty() ? Json(nullptr) : Json(a.content);
        if (m.plan->parses_reasoning()) message["reasoning_content"] = a.reasoning;
        if (!a.calls.empty()) {
          Json calls = Json::array();
          for (const AssistantMessage::Call& c : a.calls)
            calls.push_back({{"id", c.id},
                             {"type", "function"},
                             {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
          message["tool_calls"] = std::move(calls);
          if (d.finish_reason == FinishReason::kStop) finish_reason = "tool_calls";
        }
      }
      choices.push_back({{"index", i},
                         {"message", std::move(message)},
                         {"logprobs", std::move(logprobs)},
                         {"finish_reason", std::move(finish_reason)}});
    } else {
      int64_t offset = 0;
      if (m.logprobs) logprobs = completion_logprobs(m, d.logprobs, offset);
      choices.push_back({{"index", i},
                         {"text", d.text},
                         {"logprobs", std::move(logprobs)},
                         {"finish_reason", finish}});
    }
  }
  return Json{{"id", m.id},
              {"object", chat ? "chat.completion" : "text_completion"},
              {"created", m.created},
              {"model", m.model},
              {"choices", std::move(choices)},
              {"usage", usage_json(all.stats)}};
}

StreamEncoder::StreamEncoder(ResponseMeta m)
    : m_(std::move(m)), text_offset_(m_.n, 0), called_tools_(m_.n, false) {
  if (m_.plan && (m_.plan->reasoning || m_.plan->tool_format))
    for (int32_t i = 0; i < m_.n; ++i)
      parsers_.push_back(std::make_unique<AssistantOutputParser>(*m_.plan, "call_"));
}

std::string StreamEncoder::chat_chunks(const SequenceDelta& d, Json logprobs) {
  // One chunk per event; logprobs ride on the first, finish_reason on the last.
  std::vector<Json> deltas;
  if (parsers_.empty()) {
    if (!d.text.empty() || !d.finish_reason) deltas.push_back({{"content", d.text}});
  } else {
    std::vector<AssistantEvent> events;
    AssistantOutputParser& p = *parsers_[d.index];
    p.feed(d.text, events);
    if (d.finish_reason) p.finish(events);
    for (AssistantEvent& e : events) {
      using K = AssistantEvent::Kind;
      Json delta;
      switch (e.kind) {
        case K::kReasoning:
          delta = {{"reasoning_content", std::move(e.text)}};
          break;
        case K::kContent:
          delta = {{"content", std::move(e.text)}};
          break;
        case K::kToolBegin:
          called_tools_[d.index] = true;
          delta = {{"tool_calls",
                    Json::array({{{"index", e.tool_index},
                                  {"id", e.tool_id},
                                  {"type", "function"},
                                  {"function", {{"name", e.tool_name}, {"arguments", ""}}}}})}};
          break;
        case K::kToolArguments:
          delta = {
              {"tool_calls", Json::array({{{"index", e.tool_index},
                                           {"function", {{"arguments", std::move(e.text)}}}}})}};
          break;
        case K::kToolEnd:
          continue;
      }
      deltas.push_back(std::move(delta));
    }
  }
  if (deltas.empty() && (d.finish_reason || !logprobs.is_null())) deltas.push_back(Json::object());
  Json finish = finish_json(d.finish_reason);
  if (d.finish_reason == FinishReason::kStop && called_tools_[d.index]) finish = "tool_calls";
  std::string sse;
  for (size_t k = 0; k < deltas.size(); ++k) {
    const bool last = k + 1 == deltas.size();
    Json choice = {{"index", d.index},
                   {"delta", std::move(deltas[k])},
                   {"logprobs", k == 0 ? logprobs : Json(nullptr)},
                   {"finish_reason", last ? finish : Json(nullptr)}};
    sse += sse_data(chunk(Json::array({std::move(choice)})));
  }
  return sse;
}

Json StreamEncoder::chunk(Json choices) const {
  const bool chat = m_.endpoint == OpenAIEndpoint::kChat;
  Json c{{"id", m_.id},
         {"object", chat ? "chat.completion.chunk" : "text_completion"},
         {"created", m_.created},
         {"model", m_.model},
         {"choices", std::move(choices)}};
  if (m_.include_usage) c["usage"] = nullptr;
  return c;
}

std::string StreamEncoder::start() {
  if (m_.endpoint != OpenAIEndpoint::kChat) return "";
  std::string out;
  for (int32_t i = 0; i < m_.n; ++i)
    out += sse_data(chunk(Json::array({Json{{"index", i},
                                            {"delta", {{"role", "assistant"}, {"content", ""}}},
                                            {"logprobs", nullptr},
                                            {"finish_reason", nullptr}}})));
  return out;
}

std::string StreamEncoder::on_output(const RequestOutput& out) {
  const bool chat = m_.endpoint == OpenAIEndpoint::kChat;
  std::string sse;
  for (const SequenceDelta& d : out.deltas) {
    // Deltas with no text (held back by a stop-string match, an incomplete UTF-8 character) are
    // skipped unless they finish the sequence or carry logprobs the client asked for.
    const bool has_logprobs = m_.logprobs && !d.logprobs.empty();
    if (d.text.empty() && !d.finish_reason && !has_logprobs) continue;
    if (d.index < 0 || d.index >= m_.n) continue;
    Json choice;
    if (chat) {
      sse += chat_chunks(d, has_logprobs ? chat_logprobs(m_, d.logprobs) : Json(nullptr));
      continue;
    } else {
      Json logprobs = nullptr;
      if (has_logprobs) logprobs = completion_logprobs(m_, d.logprobs, text_offset_[d.index]);
      choice = {{"index", d.index},
                {"text", d.text},
                {"logprobs", std::move(logprobs)},
                {"finish_reason", finish_json(d.finish_reason)}};
    }
    sse += sse_data(chunk(Json::array({std::move(choice)})));
  }
  if (out.finished) {
    if (m_.include_usage) {
      Json last = chunk(Json::array());
      last["usage"] = usage_json(out.stats);
      sse += sse_data(last);
    }
    sse += "data: [DONE]\n\n";
  }
  return sse;
}

std::string StreamEncoder::error(const ApiError& e) {
  return "data: " + error_body(e, Protocol::kOpenAI) + "\n\ndata: [DONE]\n\n";
}

}  // namespace sluice::api
