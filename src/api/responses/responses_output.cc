#include "api/responses/responses_output.h"

#include "api/http/http_util.h"
#include "common/base64.h"

namespace sluice::api {

namespace {

std::string ltrim(const std::string& s) {
  const size_t start = s.find_first_not_of(" \t\r\n");
  return start == std::string::npos ? "" : s.substr(start);
}

Json output_text_part(const std::string& text) {
  return Json{{"type", "output_text"},
              {"annotations", Json::array()},
              {"logprobs", Json::array()},
              {"text", text}};
}

Json reasoning_part(const std::string& text) {
  return Json{{"type", "reasoning_text"}, {"text", text}};
}

constexpr std::string_view kReasoningTag = "sluice-reasoning-v1:";

}  // namespace

std::string encode_reasoning(const std::string& text) {
  return std::string(kReasoningTag) + base64::encode(text);
}

std::optional<std::string> decode_reasoning(const std::string& content) {
  if (!content.starts_with(kReasoningTag)) return std::nullopt;
  return base64::decode(std::string_view(content).substr(kReasoningTag.size()));
}

Json responses_usage(const RequestStats& stats, int64_t reasoning_tokens) {
  return Json{{"input_tokens", stats.num_prompt_tokens},
              {"input_tokens_details", {{"cached_tokens", stats.num_cached_tokens}}},
              {"output_tokens", stats.num_output_tokens},
              {"output_tokens_details", {{"reasoning_tokens", reasoning_tokens}}},
              {"total_tokens", stats.num_prompt_tokens + stats.num_output_tokens}};
}

Json response_json(const ResponseHead& head, const std::string& status, Json output, Json usage,
                   Json error) {
  Json r = {{"id", head.id},
            {"object", "response"},
            {"created_at", head.created_at},
            {"status", status},
            {"background", false},
            {"error", std::move(error)},
            {"incomplete_details",
             status == "incomplete" ? Json{{"reason", "max_output_tokens"}} : Json(nullptr)}};
  for (const char* key : {"instructions", "max_output_tokens"})
    r[key] = head.echo.value(key, Json());
  r["model"] = head.model;
  r["output"] = std::move(output);
  for (auto it = head.echo.begin(); it != head.echo.end(); ++it)
    if (!r.contains(it.key())) r[it.key()] = it.value();
  r["usage"] = std::move(usage);
  // metadata last, as OpenAI writes it.
  if (r.contains("metadata")) {
    Json md = r["metadata"];
    r.erase("metadata");
    r["metadata"] = std::move(md);
  }
  return r;
}

std::string ResponseOutputWriter::event(const char* type, Json fields) {
  Json e = {{"type", type}};
  for (auto it = fields.begin(); it != fields.end(); ++it) e[it.key()] = std::move(it.value());
  e["sequence_number"] = sequence_++;
  return sse_event(type, e);
}

Json ResponseOutputWriter::where() const {
  return Json{{"item_id", items_.back()["id"]},
              {"output_index", static_cast<int64_t>(items_.size()) - 1}};
}

std::string ResponseOutputWriter::start(const Json& response) {
  std::string out = event("response.created", {{"response", response}});
  return out + event("response.in_progress", {{"response", response}});
}

std::string ResponseOutputWriter::end(const Json& response) {
  const std::string status = response.value("status", "completed");
  const char* type = status == "incomplete" ? "response.incomplete"
                     : status == "failed"   ? "response.failed"
                                            : "response.completed";
  return event(type, {{"response", response}});
}

std::string ResponseOutputWriter::open(Open kind, Json item) {
  std::string out = close("completed");
  open_ = kind;
  text_.clear();
  items_.push_back(std::move(item));
  out +=
      event("response.output_item.added",
            {{"output_index", static_cast<int64_t>(items_.size()) - 1}, {"item", items_.back()}});
  if (kind == Open::kMessage || kind == Open::kReasoning) {
    Json e = where();
    e["content_index"] = 0;
    e["part"] = kind == Open::kMessage ? output_text_part("") : reasoning_part("");
    out += event("response.content_part.added", std::move(e));
  }
  return out;
}

std::string ResponseOutputWriter::close(const char* status) {
  if (open_ == Open::kNone) return "";
  std::string out;
  Json& item = items_.back();
  Json e = where();
  if (open_ == Open::kCustom) {
    e["input"] = text_;
    out += event("response.custom_tool_call_input.done", std::move(e));
    item["input"] = text_;
    item["status"] = status;
  } else if (open_ == Open::kCall) {
    e["arguments"] = text_;
    out += event("response.function_call_arguments.done", std::move(e));
    item["arguments"] = text_;
    item["status"] = status;
  } else {
    const bool message = open_ == Open::kMessage;
    const Json part = message ? output_text_part(text_) : reasoning_part(text_);
    e["content_index"] = 0;
    if (message) {
      e["text"] = text_;
      e["logprobs"] = Json::array();
      out += event("response.output_text.done", e);
      item["status"] = status;
    } else {
      e["text"] = text_;
      out += event("response.reasoning_text.done", e);
    }
    e.erase("text");
    e.erase("logprobs");
    e["part"] = part;
    out += event("response.content_part.done", std::move(e));
    item["content"] = Json::array({part});
    if (!message && encrypted_reasoning_) item["encrypted_content"] = encode_reasoning(text_);
  }
  out += event("response.output_item.done",
               {{"output_index", static_cast<int64_t>(items_.size()) - 1}, {"item", item}});
  open_ = Open::kNone;
  text_.clear();
  return out;
}

std::string ResponseOutputWriter::text_delta(Open kind, const std::string& text) {
  std::string out;
  std::string delta = text;
  if (open_ != kind) {  // an item opens at its first non-blank text
    delta = ltrim(text);
    if (delta.empty()) return "";
    if (kind == Open::kMessage)
      out += open(kind, Json{{"id", new_tool_call_id("msg_")},
                             {"type", "message"},
                             {"status", "in_progress"},
                             {"content", Json::array()},
                             {"role", "assistant"}});
    else
      out += open(kind, Json{{"id", new_tool_call_id("rs_")},
                             {"type", "reasoning"},
                             {"summary", Json::array()},
                             {"content", Json::array()}});
  }
  text_ += delta;
  Json e = where();
  e["content_index"] = 0;
  e["delta"] = delta;
  if (kind == Open::kMessage) {
    e["logprobs"] = Json::array();
    return out + event("response.output_text.delta", std::move(e));
  }
  return out + event("response.reasoning_text.delta", std::move(e));
}

std::string ResponseOutputWriter::open_custom(const std::string& name, const std::string& call_id) {
  return open(Open::kCustom, Json{{"id", new_tool_call_id("ctc_")},
                                  {"type", "custom_tool_call"},
                                  {"status", "in_progress"},
                                  {"call_id", call_id},
                                  {"name", name},
                                  {"input", ""}});
}

std::string ResponseOutputWriter::custom_delta(const std::string& text) {
  if (text.empty()) return "";
  text_ += text;
  Json d = where();
  d["delta"] = text;
  return event("response.custom_tool_call_input.delta", std::move(d));
}

std::string ResponseOutputWriter::on_events(const std::vector<AssistantEvent>& events) {
  using K = AssistantEvent::Kind;
  std::string out;
  for (const AssistantEvent& e : events) {
    switch (e.kind) {
      case K::kReasoning:
        reasoning_ += e.text;
        out += text_delta(Open::kReasoning, e.text);
        break;
      case K::kContent:
        if (custom_ && !custom_->forced.empty()) {  // the forced custom tool's input
          std::string text = e.text;
          if (!forced_call_opened_) {
            if (trim_input_start_) text = ltrim(text);
            if (text.empty()) break;
            out += open_custom(custom_->forced, new_tool_call_id("call_"));
            forced_call_opened_ = true;
          }
          if (open_ == Open::kCustom) out += custom_delta(text);
          break;
        }
        out += text_delta(Open::kMessage, e.text);
        break;
      case K::kToolBegin:
        if (custom_ && custom_->find(e.tool_name)) {
          out += open_custom(e.tool_name, e.tool_id);
          custom_arguments_.clear();
          break;
        }
        out += open(Open::kCall, Json{{"id", new_tool_call_id("fc_")},
                                      {"type", "function_call"},
                                      {"status", "in_progress"},
                                      {"arguments", ""},
                                      {"call_id", e.tool_id},
                                      {"name", e.tool_name}});
        break;
      case K::kToolArguments:
        if (open_ == Open::kCustom) custom_arguments_ += e.text;
        if (open_ != Open::kCall || e.text.empty()) break;
        text_ += e.text;
        out += event("response.function_call_arguments.delta", [&] {
          Json d = where();
          d["delta"] = e.text;
          return d;
        }());
        break;
      case K::kToolEnd:
        if (open_ == Open::kCall) out += close("completed");
        if (open_ == Open::kCustom) {
          // Called as a function: the input comes whole, then is checked against the grammar.
          const CustomTool& tool = *custom_->find(items_.back()["name"].get<std::string>());
          const std::optional<std::string> input = custom_input_from_arguments(custom_arguments_);
          out += custom_delta(input.value_or(custom_arguments_));
          const bool valid = input && custom_input_matches(tool, *input);
          out += close(valid ? "completed" : "incomplete");
        }
        break;
    }
  }
  return out;
}

std::string ResponseOutputWriter::finish(bool incomplete) {
  const char* status = incomplete ? "incomplete" : "completed";
  if (custom_ && !custom_->forced.empty() && !forced_call_opened_) {  // an empty input
    forced_call_opened_ = true;
    std::string out = open_custom(custom_->forced, new_tool_call_id("call_"));
    return out + close(status);
  }
  if (open_ == Open::kNone && items_.empty()) {
    std::string out = open(Open::kMessage, Json{{"id", new_tool_call_id("msg_")},
                                                {"type", "message"},
                                                {"status", "in_progress"},
                                                {"content", Json::array()},
                                                {"role", "assistant"}});
    return out + close(status);
  }
  return close(status);
}

}  // namespace sluice::api
