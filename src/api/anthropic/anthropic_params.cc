#include "api/anthropic/anthropic_params.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "api/chat_prompt.h"
#include "api/media/image_prompt.h"
#include "common/env.h"

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

// Content block types of the Messages API this text-only server does not take.
// clang-format off
const char* const kUnsupportedBlocks[] = {
    "document", "server_tool_use", "web_search_tool_result", "web_fetch_tool_result",
    "code_execution_tool_result", "mcp_tool_use", "mcp_tool_result", "search_result",
    "container_upload"};
// clang-format on

constexpr Protocol kAnthropic = Protocol::kAnthropic;

void debug_unknown_fields(const Json& body, const char* route, bool with_sampling) {
  static const bool on = env::enabled(env::Switch::kDebug);
  if (!on) return;
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (listed(kPromptFields, it.key()) || (with_sampling && listed(kSamplingFields, it.key())))
      continue;
    std::fprintf(stderr, "sluice: debug: %s: ignoring unknown field '%s'\n", route,
                 it.key().c_str());
  }
}

// output_format / output_config.format: {type: "json_schema", schema}.
void parse_format(const Json& f, const char* param, FormatRequest& out) {
  if (!f.is_object() || !f.contains("type") || f["type"] != "json_schema")
    throw invalid(std::string(param) + ": must be {\"type\": \"json_schema\", \"schema\": {...}}",
                  param);
  if (!f.contains("schema") || !(f["schema"].is_object() || f["schema"].is_boolean()))
    throw invalid(std::string(param) + ".schema: must be a JSON Schema object", param);
  out.kind = FormatRequest::Kind::kJsonSchema;
  out.schema = f["schema"];
  out.param = param;
}

// tools, tool_choice, thinking, output_format, output_config -> OutputRequest.
OutputRequest parse_output(const Json& body) {
  OutputRequest o;
  ToolRequest& t = o.tools;
  if (json_field(body, "tools")) {
    const Json& tools = body["tools"];
    if (!tools.is_array()) throw invalid("tools: must be a list", "tools");
    for (size_t i = 0; i < tools.size(); ++i) {
      const Json& tool = tools[i];
      const std::string where = "tools." + std::to_string(i);
      if (!tool.is_object()) throw invalid(where + ": must be an object", "tools");
      if (json_field(tool, "type") && tool["type"] != "custom")
        throw invalid(where + ".type: server tools ('" + tool["type"].dump() +
                          "') are not supported; define custom tools with an input_schema",
                      "tools");
      if (!json_field(tool, "input_schema") || !tool["input_schema"].is_object())
        throw invalid(where + ".input_schema: Field required (an object)", "tools");
      Json f = Json::object();
      f["name"] = tool.contains("name") ? tool["name"] : Json(nullptr);
      if (json_field(tool, "description")) f["description"] = tool["description"];
      f["parameters"] = tool["input_schema"];
      t.functions.push_back(std::move(f));  // name and schema are checked by output_plan
    }
  }
  if (json_field(body, "tool_choice")) {
    const Json& tc = body["tool_choice"];
    if (!tc.is_object() || !tc.contains("type") || !tc["type"].is_string())
      throw invalid("tool_choice: must be an object with a 'type'", "tool_choice");
    const std::string type = tc["type"];
    using C = ToolRequest::Choice;
    if (type == "auto") {
      t.choice = C::kAuto;
    } else if (type == "any") {
      t.choice = C::kRequired;
    } else if (type == "none") {
      t.choice = C::kNone;
    } else if (type == "tool") {
      if (!json_field(tc, "name") || !tc["name"].is_string())
        throw invalid("tool_choice.name: Field required", "tool_choice");
      t.choice = C::kNamed;
      t.named = tc["name"];
    } else {
      throw invalid("tool_choice.type: must be 'auto', 'any', 'tool' or 'none'", "tool_choice");
    }
    if (const Json* v = json_field(tc, "disable_parallel_tool_use"))
      t.parallel = !json_bool(*v, "tool_choice.disable_parallel_tool_use", kAnthropic);
  }
  if (json_field(body, "thinking")) {
    const Json& th = body["thinking"];
    if (!th.is_object() || !th.contains("type") || !th["type"].is_string())
      throw invalid("thinking: must be an object with a 'type'", "thinking");
    const std::string type = th["type"];
    if (type == "disabled") {
      o.thinking.enabled = false;
    } else if (type == "enabled" || type == "adaptive") {
      o.thinking.enabled = true;
      if (json_field(th, "budget_tokens")) {
        const int32_t b = json_int32_clamped(th["budget_tokens"], "thinking", kAnthropic);
        if (b < 0) throw invalid("thinking.budget_tokens: must be >= 0", "thinking");
        o.thinking.budget = b;
      } else if (type == "enabled") {
        throw invalid("thinking.budget_tokens: Field required", "thinking");
      }
    } else {
      throw invalid("thinking.type: must be 'enabled', 'adaptive' or 'disabled'", "thinking");
    }
  }
  if (json_field(body, "output_format"))
    parse_format(body["output_format"], "output_format", o.format);
  if (json_field(body, "output_config")) {
    const Json& oc = body["output_config"];
    if (!oc.is_object()) throw invalid("output_config: must be an object", "output_config");
    if (json_field(oc, "format")) parse_format(oc["format"], "output_config.format", o.format);
    if (const Json* e = json_field(oc, "effort")) {
      // The reasoning effort of models that take one (gpt-oss: low / medium / high).
      const std::string& s = json_string(*e, "output_config.effort", kAnthropic);
      if (s != "low" && s != "medium" && s != "high" && s != "xhigh" && s != "max")
        throw invalid("output_config.effort: must be 'low', 'medium', 'high', 'xhigh' or 'max'",
                      "output_config");
      o.thinking.effort = s == "low" || s == "medium" ? s : "high";
      o.thinking.effort_param = "output_config.effort";
      o.thinking.effort_is_hint = true;
    }
  }
  return o;
}

// A text block's text; any other block type is a 400 naming it.
std::string block_text(const Json& block, const std::string& where, const std::string& param) {
  if (!block.is_object() || !block.contains("type") || !block["type"].is_string())
    throw invalid(where + ": a content block must be an object with a string 'type'", param);
  const std::string type = block["type"];
  if (type != "text") {
    if (type == "image")
      throw invalid(where + ": image blocks are taken in user messages only", param);
    if (listed(kUnsupportedBlocks, type))
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

// An image block {type:"image", source:{type:"base64", media_type, data} | {type:"url", url}}
// -> an OpenAI image_url part (base64 as a data URL).
Json image_part(const Json& block, const std::string& where) {
  const Json* src = json_field(block, "source");
  if (!src || !src->is_object() || !json_field(*src, "type") || !(*src)["type"].is_string())
    throw invalid(where + ".source: Field required (an object with a 'type')", "messages");
  const std::string type = (*src)["type"];
  std::string url;
  if (type == "base64") {
    const Json* mt = json_field(*src, "media_type");
    const Json* data = json_field(*src, "data");
    if (!mt || !mt->is_string() || !data || !data->is_string())
      throw invalid(where + ".source: a base64 source needs string 'media_type' and 'data'",
                    "messages");
    url = "data:" + mt->get<std::string>() + ";base64," + data->get<std::string>();
  } else if (type == "url") {
    const Json* u = json_field(*src, "url");
    if (!u || !u->is_string())
      throw invalid(where + ".source.url: Field required (a string)", "messages");
    url = *u;
  } else {
    throw invalid(where + ".source.type: must be 'base64' or 'url', got '" + type + "'",
                  "messages");
  }
  return Json{{"type", "image_url"}, {"image_url", Json{{"url", url}}}};
}

// A tool_result's content: its text, or (when it holds images, as an agent's screenshot or
// image-file read does) a list of OpenAI text and image_url parts in order.
Json tool_result_content(const Json& block, const std::string& where) {
  const Json* content = json_field(block, "content");
  if (!content) return "";
  const auto is_image = [](const Json& b) {
    return b.is_object() && b.contains("type") && b["type"] == "image";
  };
  if (!content->is_array() || std::none_of(content->begin(), content->end(), is_image))
    return content_text(*content, where, "messages");
  Json parts = Json::array();
  for (size_t i = 0; i < content->size(); ++i) {
    const Json& b = (*content)[i];
    const std::string at = where + "." + std::to_string(i);
    if (is_image(b))
      parts.push_back(image_part(b, at));
    else
      parts.push_back(Json{{"type", "text"}, {"text", block_text(b, at, "messages")}});
  }
  return parts;
}

// Content as a list of OpenAI parts (a string is one text part).
Json as_parts(const Json& content) {
  if (content.is_array()) return content;
  Json parts = Json::array();
  if (content.is_string() && !content.get<std::string>().empty())
    parts.push_back(Json{{"type", "text"}, {"text", content}});
  return parts;
}

// One Messages API message -> OpenAI-shaped turns: tool_result blocks become "tool" turns (before
// the user's text), an assistant's thinking becomes reasoning_content and tool_use tool_calls.
std::vector<Json> message_turns(const std::string& role, const Json& content,
                                const std::string& where) {
  std::vector<Json> out;
  if (content.is_string()) {
    out.push_back(Json{{"role", role}, {"content", content}});
    return out;
  }
  if (!content.is_array())
    throw invalid(where + ": must be a string or a list of content blocks", "messages");
  std::string text, reasoning;
  Json calls = Json::array();
  Json parts = Json::array();  // a user's text and images in order, when it sends images
  bool has_image = false;
  for (size_t i = 0; i < content.size(); ++i) {
    const Json& b = content[i];
    const std::string at = where + "." + std::to_string(i);
    const std::string type = b.is_object() && b.contains("type") && b["type"].is_string()
                                 ? b["type"].get<std::string>()
                                 : "";
    if (type == "tool_result" && role == "user") {
      if (!json_field(b, "tool_use_id") || !b["tool_use_id"].is_string())
        throw invalid(at + ".tool_use_id: Field required", "messages");
      out.push_back(Json{{"role", "tool"},
                         {"tool_call_id", b["tool_use_id"]},
                         {"content", tool_result_content(b, at + ".content")}});
    } else if (type == "tool_use" && role == "assistant") {
      if (!json_field(b, "id") || !b["id"].is_string() || !json_field(b, "name") ||
          !b["name"].is_string())
        throw invalid(at + ": a tool_use block needs a string 'id' and 'name'", "messages");
      const Json input = json_field(b, "input") ? b["input"] : Json::object();
      if (!input.is_object()) throw invalid(at + ".input: must be an object", "messages");
      calls.push_back(Json{{"id", b["id"]},
                           {"type", "function"},
                           {"function", Json{{"name", b["name"]}, {"arguments", input}}}});
    } else if (type == "thinking" && role == "assistant") {
      if (!json_field(b, "thinking") || !b["thinking"].is_string())
        throw invalid(at + ".thinking: Field required (a string)", "messages");
      reasoning += b["thinking"].get<std::string>();
    } else if (type == "redacted_thinking" && role == "assistant") {
      // Encrypted by another provider: nothing a local model can read.
    } else if (type == "image" && role == "user") {
      parts.push_back(image_part(b, at));
      has_image = true;
    } else {
      const std::string block = block_text(b, at, "messages");
      if (!text.empty()) text += "\n";
      text += block;
      parts.push_back(Json{{"type", "text"}, {"text", block}});
    }
  }
  if (role == "user") {
    if (has_image)
      out.push_back(Json{{"role", "user"}, {"content", std::move(parts)}});
    else if (!text.empty() || out.empty())
      out.push_back(Json{{"role", "user"}, {"content", text}});
    return out;
  }
  Json turn{{"role", "assistant"}, {"content", text}};
  if (!reasoning.empty()) turn["reasoning_content"] = reasoning;
  if (!calls.empty()) turn["tool_calls"] = std::move(calls);
  out.push_back(std::move(turn));
  return out;
}

double finite_number(const Json& v, const char* name) {
  const double d = json_number(v, name, kAnthropic);
  if (!std::isfinite(d)) throw field_error(name, "must be finite", kAnthropic);
  return d;
}

AnthropicPrompt parse_prompt(const Json& body) {
  AnthropicPrompt p;
  if (!body.contains("model")) throw invalid("model: Field required", "model");
  p.model = json_string(body["model"], "model", kAnthropic);
  p.output = parse_output(body);

  if (json_field(body, "system")) {
    const std::string system = content_text(body["system"], "system", "system");
    if (!system.empty()) p.messages.push_back(Json{{"role", "system"}, {"content", system}});
  }

  if (!body.contains("messages")) throw invalid("messages: Field required", "messages");
  const Json& messages = body["messages"];
  if (!messages.is_array()) throw invalid("messages: must be a list", "messages");
  if (messages.empty()) throw invalid("messages: at least one message is required", "messages");
  // Consecutive turns of one role are combined into one turn, as the Messages API does.
  Json turns = Json::array();
  auto add_turn = [&](Json turn) {
    Json& last = turns.empty() ? turn : turns.back();
    if (!turns.empty() && last["role"] == turn["role"] && turn["role"] != "tool") {
      if (last["content"].is_array() || turn["content"].is_array()) {  // images: keep parts
        Json parts = as_parts(last["content"]);
        for (Json& part : as_parts(turn["content"])) parts.push_back(std::move(part));
        last["content"] = std::move(parts);
      } else {
        const std::string a = last["content"].is_string() ? last["content"].get<std::string>() : "";
        const std::string b = turn["content"].is_string() ? turn["content"].get<std::string>() : "";
        last["content"] = a.empty() ? b : b.empty() ? a : a + "\n" + b;
      }
      if (turn.contains("tool_calls")) {
        if (!last.contains("tool_calls")) last["tool_calls"] = Json::array();
        for (Json& c : turn["tool_calls"]) last["tool_calls"].push_back(std::move(c));
      }
      if (turn.contains("reasoning_content"))
        last["reasoning_content"] =
            last.value("reasoning_content", "") + turn["reasoning_content"].get<std::string>();
      return;
    }
    turns.push_back(std::move(turn));
  };
  for (size_t i = 0; i < messages.size(); ++i) {
    const Json& m = messages[i];
    const std::string where = "messages." + std::to_string(i);
    if (!m.is_object()) throw invalid(where + ": must be an object", "messages");
    if (!m.contains("role") || !m["role"].is_string())
      throw invalid(where + ".role: Field required (a string)", "messages");
    const std::string role = m["role"];
    if (role != "user" && role != "assistant" && role != "system")
      throw invalid(where + ".role: must be 'user', 'assistant' or 'system', got '" + role + "'",
                    "messages");
    if (!m.contains("content")) throw invalid(where + ".content: Field required", "messages");
    if (role == "system") {
      // System turns among the messages (Claude Code sends them) join the system prompt: most
      // chat templates accept a system message only first.
      const std::string text = content_text(m["content"], where + ".content", "messages");
      if (text.empty()) continue;
      if (p.messages.empty() || p.messages[0]["role"] != "system")
        p.messages.insert(p.messages.begin(), Json{{"role", "system"}, {"content", text}});
      else
        p.messages[0]["content"] = p.messages[0]["content"].get<std::string>() + "\n\n" + text;
      continue;
    }
    for (Json& turn : message_turns(role, m["content"], where + ".content"))
      add_turn(std::move(turn));
  }
  if (turns.empty())
    throw invalid("messages: at least one user or assistant message is required", "messages");
  // A final assistant turn of plain text is a prefill: the reply continues it (rendered after
  // the template's generation prompt), and like the Messages API it must not end in whitespace.
  if (turns.back()["role"] == "assistant" && !turns.back().contains("tool_calls") &&
      !turns.back().contains("reasoning_content")) {
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
  sp.max_tokens = json_int32_clamped(body["max_tokens"], "max_tokens", kAnthropic);
  if (sp.max_tokens < 1) throw invalid("max_tokens: must be >= 1", "max_tokens");

  if (json_field(body, "temperature")) {
    const double t = finite_number(body["temperature"], "temperature");
    if (t < 0.0 || t > 1.0)
      throw invalid("temperature: must be between 0 and 1, got " + body["temperature"].dump(),
                    "temperature");
    sp.temperature = static_cast<float>(t);
  }
  if (json_field(body, "top_p")) {
    const double p = finite_number(body["top_p"], "top_p");
    if (!(p > 0.0 && p <= 1.0))
      throw invalid("top_p: must be in (0, 1], got " + body["top_p"].dump(), "top_p");
    sp.top_p = static_cast<float>(p);
  }
  if (json_field(body, "top_k")) {
    sp.top_k = json_int32_clamped(body["top_k"], "top_k", kAnthropic);
    if (sp.top_k < 0) throw invalid("top_k: must be >= 0", "top_k");
  }
  if (json_field(body, "stop_sequences")) {
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
  if (json_field(body, "metadata")) {  // accepted; user_id affects nothing here
    const Json& md = body["metadata"];
    if (!md.is_object()) throw invalid("metadata: must be an object", "metadata");
    if (const Json* user = json_field(md, "user_id"))
      json_string(*user, "metadata.user_id", kAnthropic);
  }
  if (const Json* stream = json_field(body, "stream"))
    r.stream = json_bool(*stream, "stream", kAnthropic);
  return r;
}

AnthropicPromptTokens anthropic_prompt_tokens(const ModelContext& ctx, const AnthropicPrompt& p) {
  ChatPromptInput in;
  in.messages = p.messages;
  in.add_generation_prompt = true;
  AnthropicPromptTokens out;
  out.plan = std::make_shared<OutputPlan>(plan_chat_output(ctx, p.output, in));
  ChatPrompt chat = build_chat_prompt(ctx, std::move(in));
  out.text = std::move(chat.text);
  out.images = std::move(chat.images);
  if (p.prefill.empty()) {
    out.tokens = std::move(chat.tokens);
    return out;
  }
  // Tokenized as one text so the prefill merges with the generation prompt as the template would.
  // Harmony continues a final message.
  if (ctx.harmony_prompt) {
    out.plan->output_prefix = "<|channel|>final<|message|>";
    out.text += out.plan->output_prefix;
  }
  out.text += p.prefill;
  const Tokenizer& tok = ctx.model->tokenizer();
  if (!out.images.empty())  // the images' placeholders laid out again in the longer text
    out.tokens = tokenize_with_images(out.text, image_prompt_format(*ctx.engine->vision(), tok),
                                      tok, out.images);
  else
    out.tokens = tok.encode(out.text, EncodeOptions{.add_special = false, .parse_special = true});
  return out;
}

}  // namespace sluice::api
