#include "api/anthropic_params.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "api/chat_prompt.h"

namespace sluice::api {

namespace {

constexpr size_t kMaxStopSequences = 16;  // the engine's limit on stop strings

// Fields these parsers read; anything else is ignored (and named on stderr under SLUICE_DEBUG).
// Top-level cache_control is read as accepted: prefix caching here is automatic.
const char* const kPromptFields[] = {"model",         "messages",      "system",
                                     "tools",         "tool_choice",   "thinking",
                                     "output_format", "output_config", "cache_control"};
const char* const kSamplingFields[] = {"max_tokens",     "temperature", "top_p", "top_k",
                                       "stop_sequences", "metadata",    "stream"};

// Content block types of the Messages API that come with a later issue (tools, vision, ...).
// clang-format off
const char* const kUnsupportedBlocks[] = {
    "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking",
    "server_tool_use", "web_search_tool_result", "web_fetch_tool_result",
    "code_execution_tool_result", "mcp_tool_use", "mcp_tool_result", "search_result",
    "container_upload"};
// clang-format on

bool has(const Json& body, const char* key) {
  auto it = body.find(key);
  return it != body.end() && !it->is_null();  // an explicit null reads as absent
}

template <size_t N>
bool one_of(const std::string& s, const char* const (&list)[N]) {
  return std::find(std::begin(list), std::end(list), s) != std::end(list);
}

void debug_unknown_fields(const Json& body, const char* route, bool with_sampling) {
  if (!std::getenv("SLUICE_DEBUG")) return;
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (one_of(it.key(), kPromptFields) || (with_sampling && one_of(it.key(), kSamplingFields)))
      continue;
    std::fprintf(stderr, "sluice: debug: %s: ignoring unknown field '%s'\n", route,
                 it.key().c_str());
  }
}

// 400 for parameters that a later issue brings (tools, thinking, structured output). Values that
// ask for nothing (no tools, tool_choice none, thinking disabled) are accepted.
void reject_unsupported_params(const Json& body) {
  if (has(body, "tools") && !(body["tools"].is_array() && body["tools"].empty()))
    throw invalid("tools: tool use is not supported yet", "tools");
  if (has(body, "tool_choice")) {
    const Json& tc = body["tool_choice"];
    if (!(tc.is_object() && tc.contains("type") && tc["type"] == "none"))
      throw invalid("tool_choice: tool use is not supported yet", "tool_choice");
  }
  if (has(body, "thinking")) {
    const Json& th = body["thinking"];
    if (!(th.is_object() && th.contains("type") && th["type"] == "disabled"))
      throw invalid("thinking: extended thinking is not supported yet", "thinking");
  }
  if (has(body, "output_format"))
    throw invalid("output_format: structured outputs are not supported yet", "output_format");
  if (has(body, "output_config")) {  // its "effort" is accepted and ignored
    const Json& oc = body["output_config"];
    if (!oc.is_object()) throw invalid("output_config: must be an object", "output_config");
    if (has(oc, "format"))
      throw invalid("output_config.format: structured outputs are not supported yet",
                    "output_config");
  }
}

// A text block's text; any other block type is a 400 naming it.
std::string block_text(const Json& block, const std::string& where, const std::string& param) {
  if (!block.is_object() || !block.contains("type") || !block["type"].is_string())
    throw invalid(where + ": a content block must be an object with a string 'type'", param);
  const std::string type = block["type"];
  if (type != "text") {
    if (one_of(type, kUnsupportedBlocks))
      throw invalid(where + ": content blocks of type '" + type + "' are not supported yet", param);
    throw invalid(where + ": unknown content block type '" + type + "'", param);
  }
  if (!block.contains("text") || !block["text"].is_string())
    throw invalid(where + ".text: a text block needs a string 'text'", param);
  return block["text"];  // cache_control and citations are accepted and ignored
}

// content: a string or a list of blocks (text only, joined with "\n" as chat_prompt does).
std::string content_text(const Json& content, const std::string& where, const std::string& param) {
  if (content.is_string()) return content;
  if (!content.is_array())
    throw invalid(where + ": must be a string or a list of content blocks", param);
  std::string text;
  for (size_t i = 0; i < content.size(); ++i) {
    if (i > 0) text += "\n";
    text += block_text(content[i], where + "." + std::to_string(i), param);
  }
  return text;
}

// An integer field as int64 (a JSON unsigned beyond int64 saturates); 400 for any other type.
int64_t integer(const Json& v, const char* name) {
  if (!v.is_number_integer()) throw invalid(std::string(name) + ": must be an integer", name);
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    return u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
               ? std::numeric_limits<int64_t>::max()
               : static_cast<int64_t>(u);
  }
  return v.get<int64_t>();
}

double number(const Json& v, const char* name) {
  if (!v.is_number()) throw invalid(std::string(name) + ": must be a number", name);
  const double d = v.get<double>();
  if (!std::isfinite(d)) throw invalid(std::string(name) + ": must be finite", name);
  return d;
}

AnthropicPrompt parse_prompt(const Json& body) {
  AnthropicPrompt p;
  if (!body.contains("model")) throw invalid("model: Field required", "model");
  if (!body["model"].is_string()) throw invalid("model: must be a string", "model");
  p.model = body["model"];
  reject_unsupported_params(body);

  if (has(body, "system")) {
    const std::string system = content_text(body["system"], "system", "system");
    if (!system.empty()) p.messages.push_back(Json{{"role", "system"}, {"content", system}});
  }

  if (!body.contains("messages")) throw invalid("messages: Field required", "messages");
  const Json& messages = body["messages"];
  if (!messages.is_array()) throw invalid("messages: must be a list", "messages");
  if (messages.empty()) throw invalid("messages: at least one message is required", "messages");
  // Consecutive turns of one role are combined into one turn, as the Messages API does.
  Json turns = Json::array();
  for (size_t i = 0; i < messages.size(); ++i) {
    const Json& m = messages[i];
    const std::string where = "messages." + std::to_string(i);
    if (!m.is_object()) throw invalid(where + ": must be an object", "messages");
    if (!m.contains("role") || !m["role"].is_string())
      throw invalid(where + ".role: Field required (a string)", "messages");
    const std::string role = m["role"];
    if (role != "user" && role != "assistant")
      throw invalid(where + ".role: must be 'user' or 'assistant', got '" + role + "'", "messages");
    if (!m.contains("content")) throw invalid(where + ".content: Field required", "messages");
    std::string text = content_text(m["content"], where + ".content", "messages");
    if (!turns.empty() && turns.back()["role"] == role) {
      turns.back()["content"] = turns.back()["content"].get<std::string>() + "\n" + text;
    } else {
      turns.push_back(Json{{"role", role}, {"content", std::move(text)}});
    }
  }
  // A final assistant turn is a prefill: the reply continues it (rendered after the template's
  // generation prompt), and like the Messages API it must not end in whitespace.
  if (turns.back()["role"] == "assistant") {
    p.prefill = turns.back()["content"];
    turns.erase(turns.size() - 1);
    if (!p.prefill.empty() && std::isspace(static_cast<unsigned char>(p.prefill.back())))
      throw invalid("messages: final assistant content cannot end with trailing whitespace",
                    "messages");
  }
  for (Json& t : turns) p.messages.push_back(std::move(t));
  return p;
}

}  // namespace

AnthropicPrompt parse_anthropic_prompt(const Json& body) {
  debug_unknown_fields(body, "/v1/messages/count_tokens", false);
  return parse_prompt(body);
}

AnthropicRequest parse_anthropic_request(const Json& body) {
  debug_unknown_fields(body, "/v1/messages", true);
  AnthropicRequest r;
  r.prompt = parse_prompt(body);
  SamplingParams& sp = r.params;
  sp.temperature = 1.0f;  // the Messages API's defaults: temperature 1, no top_p / top_k cut

  if (!body.contains("max_tokens")) throw invalid("max_tokens: Field required", "max_tokens");
  const int64_t max_tokens = integer(body["max_tokens"], "max_tokens");
  if (max_tokens < 1) throw invalid("max_tokens: must be >= 1", "max_tokens");
  sp.max_tokens =
      static_cast<int32_t>(std::min<int64_t>(max_tokens, std::numeric_limits<int32_t>::max()));

  if (has(body, "temperature")) {
    const double t = number(body["temperature"], "temperature");
    if (t < 0.0 || t > 1.0)
      throw invalid("temperature: must be between 0 and 1, got " + body["temperature"].dump(),
                    "temperature");
    sp.temperature = static_cast<float>(t);
  }
  if (has(body, "top_p")) {
    const double p = number(body["top_p"], "top_p");
    if (!(p > 0.0 && p <= 1.0))
      throw invalid("top_p: must be in (0, 1], got " + body["top_p"].dump(), "top_p");
    sp.top_p = static_cast<float>(p);
  }
  if (has(body, "top_k")) {
    const int64_t k = integer(body["top_k"], "top_k");
    if (k < 0) throw invalid("top_k: must be >= 0", "top_k");
    sp.top_k = static_cast<int32_t>(std::min<int64_t>(k, std::numeric_limits<int32_t>::max()));
  }
  if (has(body, "stop_sequences")) {
    const Json& stops = body["stop_sequences"];
    if (!stops.is_array())
      throw invalid("stop_sequences: must be a list of strings", "stop_sequences");
    if (stops.size() > kMaxStopSequences)
      throw invalid("stop_sequences: at most 16 sequences are supported", "stop_sequences");
    for (const Json& s : stops) {
      if (!s.is_string() || s.get_ref<const std::string&>().empty())
        throw invalid("stop_sequences: every entry must be a non-empty string", "stop_sequences");
      sp.stop.push_back(s);
    }
  }
  if (has(body, "metadata")) {  // accepted; user_id affects nothing here
    const Json& md = body["metadata"];
    if (!md.is_object()) throw invalid("metadata: must be an object", "metadata");
    if (has(md, "user_id") && !md["user_id"].is_string())
      throw invalid("metadata.user_id: must be a string", "metadata");
  }
  if (has(body, "stream")) {
    if (!body["stream"].is_boolean()) throw invalid("stream: must be a boolean", "stream");
    r.stream = body["stream"];
  }
  return r;
}

std::vector<int32_t> anthropic_prompt_tokens(const ServerContext& ctx, const AnthropicPrompt& p) {
  ChatPromptInput in;
  in.messages = p.messages;
  in.add_generation_prompt = true;
  ChatPrompt chat = build_chat_prompt(ctx, in);
  if (p.prefill.empty()) return std::move(chat.tokens);
  // Tokenized as one text so the prefill merges with the generation prompt as the template would.
  return ctx.model->tokenizer().encode(chat.text + p.prefill,
                                       EncodeOptions{.add_special = false, .parse_special = true});
}

}  // namespace sluice::api
