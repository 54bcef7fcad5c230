#include "jinja/template.h"

#include <cstdio>

#include "jinja/json.h"
#include "jinja/parser.h"

namespace sluice::jinja {

namespace {

Status to_status(const TemplateError& e) {
  std::string what = e.kind() + ": " + e.what();
  if (e.line() > 0) what += " (line " + std::to_string(e.line()) + ")";
  return Status::error("template", what);
}

}  // namespace

Result<Template> Template::parse(std::string source) {
  Template t;
  try {
    t.body_ = std::make_shared<const Body>(parse_template(source));
  } catch (const TemplateError& e) {
    return to_status(e);
  } catch (const std::exception& e) {  // a bug or out of memory: still an error, not a crash
    return Status::error("template", std::string("InternalError: ") + e.what());
  }
  t.source_ = std::make_shared<const std::string>(std::move(source));
  return t;
}

Result<std::string> Template::render(const nlohmann::ordered_json& context,
                                     const RenderOptions& opts) const {
  if (!context.is_object()) return Status::error("template", "context must be a JSON object");
  return render_value(from_json(context), opts);
}

Result<std::string> Template::render(const nlohmann::json& context,
                                     const RenderOptions& opts) const {
  if (!context.is_object()) return Status::error("template", "context must be a JSON object");
  return render_value(from_json(context), opts);
}

Result<std::string> Template::render_value(const Value& context, const RenderOptions& opts) const {
  if (!context.is_dict()) return Status::error("template", "context must be a dict");
  auto root = std::make_shared<Scope>();
  for (const auto& [k, v] : context.dict_ptr()->entries)
    if (k.is_string()) root->set(k.str(), v);
  try {
    Interpreter interp(opts.limits, opts.fixed_now);
    return interp.render(*body_, root);
  } catch (const TemplateError& e) {
    return to_status(e);
  } catch (const std::exception& e) {  // a bug or out of memory: still an error, not a crash
    return Status::error("template", std::string("InternalError: ") + e.what());
  }
}

std::optional<std::tm> parse_fixed_date(const std::string& text) {
  int y, mo, d, h = 0, mi = 0, s = 0;
  char tail;
  int n = std::sscanf(text.c_str(), "%d-%d-%d%*[ T]%d:%d:%d%c", &y, &mo, &d, &h, &mi, &s, &tail);
  if (n != 3 && n != 6) return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 ||
      s > 60)
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  std::time_t t = timegm(&tm);
  std::tm out{};
  gmtime_r(&t, &out);
  return out;
}

}  // namespace sluice::jinja
