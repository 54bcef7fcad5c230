#pragma once
// A parsed Jinja2 template rendered exactly as Hugging Face transformers renders chat templates
// (jinja2 ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks, loop controls, HF's
// tojson / raise_exception / strftime_now).
//
//   auto tpl = jinja::Template::parse(source);       // syntax errors: "[template] ... (line N)"
//   auto text = tpl->render(context);                // every key of context becomes a variable
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/status.h"
#include "jinja/ast.h"
#include "jinja/interpreter.h"

namespace sluice::jinja {

struct RenderOptions {
  std::optional<std::tm> fixed_now;  // strftime_now's clock; unset: local time
  Limits limits;
};

class Template {
 public:
  static Result<Template> parse(std::string source);

  // Every key of `context` (an object) becomes a template variable. Keys keep their order
  // (ordered_json), which matters for `tojson` and dict iteration.
  Result<std::string> render(const nlohmann::ordered_json& context,
                             const RenderOptions& opts = {}) const;
  // nlohmann::json sorts object keys; prefer the ordered_json overload.
  Result<std::string> render(const nlohmann::json& context, const RenderOptions& opts = {}) const;
  // Context given as a dict Value (e.g. built by hand).
  Result<std::string> render_value(const Value& context, const RenderOptions& opts = {}) const;

  const std::string& source() const { return *source_; }

 private:
  std::shared_ptr<const std::string> source_;
  std::shared_ptr<const Body> body_;
};

// "YYYY-MM-DD" or "YYYY-MM-DD HH:MM:SS" -> broken-down time (weekday and yearday filled).
std::optional<std::tm> parse_fixed_date(const std::string& text);

}  // namespace sluice::jinja
