// OpenAI tools, tool_choice, parallel_tool_calls, response_format, enable_thinking,
// thinking_budget and reasoning_effort -> OutputRequest (type-checked, 400 naming the field).
#include "api/openai/openai_output_params.h"

#include "api/json_fields.h"

namespace sluice::api {

namespace {

Json parse_tools(const Json& v) {
  if (!v.is_array()) throw invalid("tools must be a list", "tools");
  Json functions = Json::array();
  for (size_t i = 0; i < v.size(); ++i) {
    const Json& t = v[i];
    const std::string where = "tools[" + std::to_string(i) + "]";
    if (!t.is_object() || !t.contains("type") || !t["type"].is_string())
      throw invalid(where + " must be an object with a 'type'", "tools");
    if (t["type"] != "function")
      throw invalid(
          where + ".type '" + t["type"].get<std::string>() + "' is not supported (only 'function')",
          "tools");
    if (!t.contains("function") || !t["function"].is_object())
      throw invalid(where + ".function must be an object", "tools");
    functions.push_back(t["function"]);  // name / parameters are checked by output_plan
  }
  return functions;
}

void parse_tool_choice(const Json& v, ToolRequest& t) {
  using C = ToolRequest::Choice;
  if (v.is_string()) {
    const std::string s = v;
    if (s == "auto")
      t.choice = C::kAuto;
    else if (s == "none")
      t.choice = C::kNone;
    else if (s == "required")
      t.choice = C::kRequired;
    else
      throw invalid("tool_choice must be 'auto', 'none', 'required' or a named function",
                    "tool_choice");
    return;
  }
  if (v.is_object() && v.value("type", "") == "function" && v.contains("function") &&
      v["function"].is_object() && v["function"].contains("name") &&
      v["function"]["name"].is_string()) {
    t.choice = C::kNamed;
    t.named = v["function"]["name"];
    return;
  }
  throw invalid(
      "tool_choice must be 'auto', 'none', 'required' or "
      "{\"type\": \"function\", \"function\": {\"name\": ...}}",
      "tool_choice");
}

void parse_response_format(const Json& v, FormatRequest& f) {
  if (!v.is_object() || !v.contains("type") || !v["type"].is_string())
    throw invalid("response_format must be an object with a 'type'", "response_format");
  const std::string type = v["type"];
  f.param = "response_format";
  if (type == "text") {
    f.kind = FormatRequest::Kind::kText;
  } else if (type == "json_object") {
    f.kind = FormatRequest::Kind::kJsonObject;
  } else if (type == "json_schema") {
    const Json* js = json_field(v, "json_schema");
    if (!js || !js->is_object())
      throw invalid("response_format.json_schema must be an object", "response_format");
    const Json* schema = json_field(*js, "schema");
    if (!schema || !(schema->is_object() || schema->is_boolean()))
      throw invalid("response_format.json_schema.schema must be a JSON Schema object",
                    "response_format");
    if (const Json* strict = json_field(*js, "strict"))
      json_bool(*strict, "response_format.json_schema.strict");  // always enforced
    f.kind = FormatRequest::Kind::kJsonSchema;
    f.schema = *schema;
  } else {
    throw invalid("response_format.type must be 'text', 'json_object' or 'json_schema'",
                  "response_format");
  }
}

}  // namespace

OutputRequest parse_openai_output(const Json& body, bool chat) {
  OutputRequest o;
  const Json* v = nullptr;
  if ((v = json_field(body, "response_format"))) parse_response_format(*v, o.format);
  if (!chat) return o;
  if ((v = json_field(body, "tools"))) o.tools.functions = parse_tools(*v);
  if ((v = json_field(body, "tool_choice"))) parse_tool_choice(*v, o.tools);
  if ((v = json_field(body, "parallel_tool_calls")))
    o.tools.parallel = json_bool(*v, "parallel_tool_calls");
  if ((v = json_field(body, "enable_thinking")))
    o.thinking.enabled = json_bool(*v, "enable_thinking");
  if ((v = json_field(body, "chat_template_kwargs")) && v->is_object())
    if (const Json* e = json_field(*v, "enable_thinking"))
      o.thinking.enabled = json_bool(*e, "chat_template_kwargs.enable_thinking");
  if ((v = json_field(body, "reasoning_effort"))) {
    const std::string& e = json_string(*v, "reasoning_effort");
    if (e != "low" && e != "medium" && e != "high")
      throw invalid("reasoning_effort must be 'low', 'medium' or 'high', got '" + e + "'",
                    "reasoning_effort");
    o.thinking.effort = e;
  }
  if ((v = json_field(body, "thinking_budget"))) {
    const int64_t b = json_int(*v, "thinking_budget");
    if (b < 0 || b > INT32_MAX) throw invalid("thinking_budget must be >= 0", "thinking_budget");
    o.thinking.budget = static_cast<int32_t>(b);
  }
  return o;
}

}  // namespace sluice::api
