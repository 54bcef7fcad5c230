#pragma once
// Chat templates: a Jinja2 interpreter that renders a model's chat template exactly as Hugging
// Face transformers does (jinja2 ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks,
// loop controls, HF's tojson / raise_exception / strftime_now).
//
//   auto tpl = ChatTemplate::parse(source);          // syntax errors: "[template] ... (line N)"
//   auto text = tpl->render(context);                // context: messages, tools, documents,
//                                                    // add_generation_prompt, bos_token, ...
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/status.h"
#include "tokenizer/chat_template/ast.h"
#include "tokenizer/chat_template/interpreter.h"

namespace sluice {

struct ChatTemplateRenderOptions {
  std::optional<std::tm> fixed_now;  // strftime_now's clock; unset: local time
  tpl::Limits limits;
};

class ChatTemplate {
 public:
  static Result<ChatTemplate> parse(std::string source);

  // Every key of `context` (an object) becomes a template variable. Keys keep their order
  // (ordered_json), which matters for `tojson` and dict iteration.
  Result<std::string> render(const nlohmann::ordered_json& context,
                             const ChatTemplateRenderOptions& opts = {}) const;
  // nlohmann::json sorts object keys; prefer the ordered_json overload.
  Result<std::string> render(const nlohmann::json& context,
                             const ChatTemplateRenderOptions& opts = {}) const;
  // Context given as a dict Value (e.g. built by hand).
  Result<std::string> render_value(const tpl::Value& context,
                                   const ChatTemplateRenderOptions& opts = {}) const;

  const std::string& source() const { return *source_; }

 private:
  std::shared_ptr<const std::string> source_;
  std::shared_ptr<const tpl::Body> body_;
};

// "YYYY-MM-DD" or "YYYY-MM-DD HH:MM:SS" -> broken-down time (weekday and yearday filled).
std::optional<std::tm> parse_fixed_date(const std::string& text);

}  // namespace sluice
