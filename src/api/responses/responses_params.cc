#include "api/responses/responses_params.h"

#include "api/responses/responses_input.h"

namespace sluice::api {

namespace {

bool is_false(const Json& v) {
  return v.is_boolean() && !v.get<bool>();
}
bool is_empty_list(const Json& v) {
  return v.is_array() && v.empty();
}
bool is_zero(const Json& v) {
  return v.is_number_integer() && v.get<int64_t>() == 0;
}
bool is_disabled(const Json& v) {
  return v == "disabled";
}
bool is_in_memory(const Json& v) {
  return v == "in_memory";  // what the prefix cache is
}
bool never(const Json&) {
  return false;
}

struct Unsupported {
  const char* name;
  bool (*harmless)(const Json&);  // a value that asks for nothing (null always is)
  const char* what;
};

// clang-format off
constexpr Unsupported kUnsupported[] = {
    {"background", is_false, "background responses are not supported"},
    {"conversation", never, "conversations are not supported; chain with previous_response_id"},
    {"prompt", never, "prompt templates (prompt) are not supported"},
    {"max_tool_calls", never, "max_tool_calls is not supported"},
    {"truncation", is_disabled, "truncation 'auto' is not supported (only 'disabled')"},
    {"top_logprobs", is_zero, "logprobs (top_logprobs) are not supported on /v1/responses"},
    {"context_management", is_empty_list, "context_management is not supported"},
    {"moderation", never, "moderation is not supported"},
    {"image", never, "image options are not supported by this text-only server"},
    {"prompt_cache_retention", is_in_memory, "prompt_cache_retention must be 'in_memory'"},
    {"prompt_cache_options", never, "prompt_cache_options is not supported"},
    {"background_options", never, "background responses are not supported"},
    {"access_programs", never, "access_programs is not supported"},
    {"personality", never, "personality is not supported"},
};
const char* const kCreateFields[] = {
    "model", "input", "instructions", "tools", "tool_choice", "parallel_tool_calls", "text",
    "reasoning", "max_output_tokens", "temperature", "top_p", "metadata", "user",
    "safety_identifier", "store", "stream", "stream_options", "previous_response_id",
    "prompt_cache_key", "service_tier", "include"};
const char* const kCountFields[] = {
    "model", "input", "instructions", "tools", "tool_choice", "parallel_tool_calls", "text",
    "reasoning", "previous_response_id"};
const char* const kHostedTools[] = {
    "file_search", "web_search", "web_search_preview", "computer_use_preview", "computer",
    "code_interpreter", "image_generation", "mcp", "local_shell", "shell", "apply_patch",
    "tool_search", "namespace"};
// clang-format on

void check_fields(const Json& body, ResponsesEndpoint ep) {
  for (auto it = body.begin(); it != body.end(); ++it) {
    const std::string& key = it.key();
    if (ep == ResponsesEndpoint::kCreate ? listed(kCreateFields, key) : listed(kCountFields, key))
      continue;
    bool known = false;
    for (const Unsupported& u : kUnsupported) {
      if (key != u.name) continue;
      if (!it.value().is_null() && !u.harmless(it.value())) throw invalid(u.what, u.name);
      known = true;
    }
    if (!known) throw invalid("Unrecognized request argument supplied: " + key, key);
  }
}

// Flat function and custom tools -> the functions of a ToolRequest (custom_tools.h says how a
// custom tool is presented); the echo keeps them with defaults.
Json parse_tools(const Json& v, Json& functions, CustomToolSet& custom) {
  if (!v.is_array()) throw invalid("tools must be a list", "tools");
  Json echo = Json::array();
  for (size_t i = 0; i < v.size(); ++i) {
    const Json& t = v[i];
    const std::string where = "tools[" + std::to_string(i) + "]";
    if (!t.is_object() || !t.contains("type") || !t["type"].is_string())
      throw invalid(where + " must be an object with a 'type'", "tools");
    const std::string type = t["type"];
    if (type == "custom") {
      CustomTool tool;
      Json f;
      echo.push_back(parse_custom_tool(t, i, tool, f));
      functions.push_back(std::move(f));
      custom.tools.push_back(std::move(tool));
      continue;
    }
    if (type != "function")
      throw invalid(where + ".type '" + type + "' is not supported: " +
                        (listed(kHostedTools, type) ? "this server runs no hosted tools"
                                                    : "unknown tool type") +
                        " (only 'function' and 'custom')",
                    "tools");
    for (auto it = t.begin(); it != t.end(); ++it)
      if (it.key() != "type" && it.key() != "name" && it.key() != "description" &&
          it.key() != "parameters" && it.key() != "strict")
        throw invalid(where + "." + it.key() + " is not a field of a function tool", "tools");
    Json f = Json::object();
    f["name"] = t.contains("name") ? t["name"] : Json(nullptr);
    if (json_field(t, "description")) f["description"] = t["description"];
    if (json_field(t, "parameters")) f["parameters"] = t["parameters"];
    // strict: calls are grammar-constrained whenever tool_choice forces them, strict or not.
    if (const Json* s = json_field(t, "strict")) json_bool(*s, where + ".strict");
    functions.push_back(f);  // name / parameters are checked by output_plan
    echo.push_back(Json{{"type", "function"},
                        {"name", f["name"]},
                        {"description", f.contains("description") ? f["description"] : nullptr},
                        {"parameters", f.contains("parameters") ? f["parameters"] : nullptr},
                        {"strict", t.contains("strict") ? t["strict"] : Json(true)}});
  }
  return echo;
}

void parse_tool_choice(const Json& v, ToolRequest& t, CustomToolSet& custom) {
  using C = ToolRequest::Choice;
  // {type: custom, name}: the output is the tool's input (custom_tools.h); no call is parsed.
  if (v.is_object() && v.value("type", "") == "custom") {
    const Json* name = json_field(v, "name");
    if (!name) throw invalid("tool_choice.name is required", "tool_choice");
    custom.forced = json_string(*name, "tool_choice.name");
    if (!custom.find(custom.forced))
      throw invalid("tool_choice names custom tool '" + custom.forced +
                        "', which is not among the custom tools",
                    "tool_choice");
    t.choice = C::kNone;
    return;
  }
  if (v.is_string()) {
    if (v == "auto")
      t.choice = C::kAuto;
    else if (v == "none")
      t.choice = C::kNone;
    else if (v == "required")
      t.choice = C::kRequired;
    else
      throw invalid("tool_choice must be 'auto', 'none', 'required' or a named function",
                    "tool_choice");
    return;
  }
  if (v.is_object() && v.value("type", "") == "function" && v.contains("name") &&
      v["name"].is_string()) {
    t.choice = C::kNamed;
    t.named = v["name"];
    return;
  }
  if (v.is_object() && v.contains("type") && v["type"].is_string())
    throw invalid("tool_choice of type '" + v["type"].get<std::string>() +
                      "' is not supported ('auto', 'none', 'required', "
                      "{\"type\": \"function\", \"name\": ...} or {\"type\": \"custom\", "
                      "\"name\": ...})",
                  "tool_choice");
  throw invalid(
      "tool_choice must be 'auto', 'none', 'required' or {\"type\": \"function\", \"name\": ...}",
      "tool_choice");
}

// text: {format: {type: text | json_object | json_schema, ...}, verbosity}.
Json parse_text(const Json& v, FormatRequest& f) {
  if (!v.is_object()) throw invalid("text must be an object", "text");
  Json echo = {{"format", {{"type", "text"}}}, {"verbosity", "medium"}};
  for (auto it = v.begin(); it != v.end(); ++it)
    if (it.key() != "format" && it.key() != "verbosity")
      throw invalid("text." + it.key() + " is not supported", "text");
  if (const Json* verbosity = json_field(v, "verbosity"))
    if (json_string(*verbosity, "text.verbosity") != "medium")
      throw invalid("text.verbosity other than 'medium' is not supported", "text");
  f.param = "text.format";
  const Json* fmt = json_field(v, "format");
  if (!fmt) return echo;
  if (!fmt->is_object() || !fmt->contains("type") || !(*fmt)["type"].is_string())
    throw invalid("text.format must be an object with a 'type'", "text.format");
  const std::string type = (*fmt)["type"];
  if (type == "text") {
    f.kind = FormatRequest::Kind::kText;
  } else if (type == "json_object") {
    f.kind = FormatRequest::Kind::kJsonObject;
    echo["format"] = {{"type", "json_object"}};
  } else if (type == "json_schema") {
    const Json* schema = json_field(*fmt, "schema");
    if (!schema || !(schema->is_object() || schema->is_boolean()))
      throw invalid("text.format.schema must be a JSON Schema object", "text.format");
    const Json* name = json_field(*fmt, "name");
    if (!name) throw invalid("text.format.name is required for json_schema", "text.format");
    json_string(*name, "text.format.name");
    bool strict = false;  // the output is constrained to the schema either way
    if (const Json* s = json_field(*fmt, "strict")) strict = json_bool(*s, "text.format.strict");
    f.kind = FormatRequest::Kind::kJsonSchema;
    f.schema = *schema;
    Json e = {{"type", "json_schema"}, {"name", *name}, {"schema", *schema}, {"strict", strict}};
    if (const Json* d = json_field(*fmt, "description"))
      e["description"] = json_string(*d, "text.format.description");
    echo["format"] = std::move(e);
  } else {
    throw invalid("text.format.type must be 'text', 'json_object' or 'json_schema'", "text.format");
  }
  return echo;
}

// reasoning: {effort, summary}. effort "none" turns thinking off; others go to the template's
// reasoning_effort as chat's reasoning_effort does (minimal -> low, xhigh -> high).
Json parse_reasoning(const Json& v, ThinkingRequest& th) {
  if (!v.is_object()) throw invalid("reasoning must be an object", "reasoning");
  Json echo = {{"effort", nullptr}, {"summary", nullptr}};
  for (auto it = v.begin(); it != v.end(); ++it)
    if (it.key() != "effort" && it.key() != "summary" && it.key() != "generate_summary")
      throw invalid("reasoning." + it.key() + " is not supported", "reasoning");
  if (const Json* e = json_field(v, "effort")) {
    const std::string& s = json_string(*e, "reasoning.effort");
    if (s == "none") {
      th.enabled = false;
    } else if (s == "minimal" || s == "low" || s == "medium" || s == "high" || s == "xhigh") {
      th.effort = s == "minimal" ? "low" : s == "xhigh" ? "high" : s;
      th.effort_param = "reasoning.effort";
    } else {
      throw invalid(
          "reasoning.effort must be 'none', 'minimal', 'low', 'medium', 'high' or 'xhigh', got '" +
              s + "'",
          "reasoning");
    }
    echo["effort"] = s;
  }
  // Summaries are not written: the reasoning itself comes back as reasoning_text content.
  for (const char* key : {"summary", "generate_summary"}) {
    if (const Json* s = json_field(v, key)) {
      const std::string& value = json_string(*s, std::string("reasoning.") + key);
      if (value != "auto" && value != "concise" && value != "detailed")
        throw invalid(std::string("reasoning.") + key + " must be 'auto', 'concise' or 'detailed'",
                      "reasoning");
      echo["summary"] = value;
    }
  }
  return echo;
}

Json parse_metadata(const Json& v) {
  if (!v.is_object()) throw invalid("metadata must be an object of strings", "metadata");
  if (v.size() > 16) throw invalid("metadata has more than 16 keys", "metadata");
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it.key().size() > 64) throw invalid("metadata keys are at most 64 characters", "metadata");
    if (!it.value().is_string() || it.value().get_ref<const std::string&>().size() > 512)
      throw invalid("metadata." + it.key() + " must be a string of at most 512 characters",
                    "metadata");
  }
  return v;
}

// A number in [lo, hi] ((lo, hi] when lo_open); `range` says which, for the message.
float ranged(const Json& v, const char* name, double lo, double hi, bool lo_open,
             const char* range) {
  const double d = json_number(v, name);
  if (d < lo || d > hi || (lo_open && d == lo))
    throw invalid(std::string(name) + " must be in " + range + ", got " + v.dump(), name);
  return static_cast<float>(d);
}

}  // namespace

ResponsesRequest parse_responses_request(const Json& body, ResponsesEndpoint endpoint) {
  check_fields(body, endpoint);
  ResponsesRequest r;
  Json& echo = r.echo;
  const Json* v = nullptr;
  if ((v = json_field(body, "model"))) r.model = json_string(*v, "model");
  if ((v = json_field(body, "instructions"))) r.instructions = json_string(*v, "instructions");
  if ((v = json_field(body, "previous_response_id")))
    r.previous_response_id = json_string(*v, "previous_response_id");
  if ((v = json_field(body, "input")))
    r.input = normalize_input_items(*v);
  else if (r.previous_response_id.empty())
    throw invalid("input is required", "input");

  Json tools = Json::array();
  if ((v = json_field(body, "tools"))) tools = parse_tools(*v, r.output.tools.functions, r.custom);
  Json tool_choice = "auto";
  if ((v = json_field(body, "tool_choice"))) {
    parse_tool_choice(*v, r.output.tools, r.custom);
    tool_choice = *v;
    if (r.output.tools.choice == ToolRequest::Choice::kNamed && r.custom.find(r.output.tools.named))
      throw invalid("tool_choice names '" + r.output.tools.named +
                        "', a custom tool: force it with {\"type\": \"custom\", \"name\": ...}",
                    "tool_choice");
  }
  if ((v = json_field(body, "parallel_tool_calls")))
    r.output.tools.parallel = json_bool(*v, "parallel_tool_calls");
  Json text = {{"format", {{"type", "text"}}}, {"verbosity", "medium"}};
  if ((v = json_field(body, "text"))) text = parse_text(*v, r.output.format);
  r.output.format.param = "text.format";
  if (!r.custom.forced.empty()) {
    if (r.output.format.kind != FormatRequest::Kind::kText)
      throw invalid("text.format cannot be combined with a tool_choice that forces a custom tool",
                    "text.format");
    const CustomTool& forced = *r.custom.find(r.custom.forced);
    if (!forced.syntax.empty()) {  // free text: unconstrained
      r.output.format.kind = FormatRequest::Kind::kGrammar;
      r.output.format.grammar_key = forced.cache_key();
      r.output.format.grammar = [forced] { return forced.root(); };
      r.output.format.param = forced.param;
    }
  }
  Json reasoning = {{"effort", nullptr}, {"summary", nullptr}};
  if ((v = json_field(body, "reasoning"))) reasoning = parse_reasoning(*v, r.output.thinking);

  SamplingParams& p = r.params;
  Json temperature = 1.0, top_p = 1.0;  // OpenAI's defaults
  if ((v = json_field(body, "temperature"))) {
    p.temperature = ranged(*v, "temperature", 0.0, 2.0, false, "[0, 2]");
    temperature = *v;
  }
  if ((v = json_field(body, "top_p"))) {
    p.top_p = ranged(*v, "top_p", 0.0, 1.0, true, "(0, 1]");
    top_p = *v;
  }
  if ((v = json_field(body, "max_output_tokens"))) {
    r.max_output_tokens = json_int32_clamped(*v, "max_output_tokens");
    if (*r.max_output_tokens < 1)
      throw invalid("max_output_tokens must be >= 1", "max_output_tokens");
  }
  Json metadata = Json::object();
  if ((v = json_field(body, "metadata"))) metadata = parse_metadata(*v);
  if ((v = json_field(body, "store"))) r.store = json_bool(*v, "store");
  if ((v = json_field(body, "include"))) {
    if (!v->is_array()) throw invalid("include must be a list of strings", "include");
    for (const Json& what : *v) {
      if (what != "reasoning.encrypted_content")
        throw invalid(
            "include: only 'reasoning.encrypted_content' is supported, not " + what.dump(),
            "include");
      r.encrypted_reasoning = true;
    }
  }
  if ((v = json_field(body, "stream"))) r.stream = json_bool(*v, "stream");
  if ((v = json_field(body, "stream_options"))) {
    if (!v->is_object()) throw invalid("stream_options must be an object", "stream_options");
    for (auto it = v->begin(); it != v->end(); ++it) {
      if (it.key() != "include_obfuscation")
        throw invalid("stream_options." + it.key() + " is not supported", "stream_options");
      json_bool(it.value(), "stream_options.include_obfuscation");  // no obfuscation is sent
    }
  }
  if ((v = json_field(body, "prompt_cache_key")))
    r.cache_salt = json_string(*v, "prompt_cache_key");
  Json user = nullptr;
  if ((v = json_field(body, "user"))) user = json_string(*v, "user");  // accepted
  if ((v = json_field(body, "safety_identifier"))) json_string(*v, "safety_identifier");
  if ((v = json_field(body, "service_tier"))) json_string(*v, "service_tier");

  echo["instructions"] = r.instructions ? Json(*r.instructions) : Json(nullptr);
  echo["max_output_tokens"] = r.max_output_tokens ? Json(*r.max_output_tokens) : Json(nullptr);
  echo["parallel_tool_calls"] = r.output.tools.parallel;
  echo["previous_response_id"] =
      r.previous_response_id.empty() ? Json(nullptr) : Json(r.previous_response_id);
  echo["reasoning"] = std::move(reasoning);
  echo["store"] = r.store;
  echo["temperature"] = std::move(temperature);
  echo["text"] = std::move(text);
  echo["tool_choice"] = std::move(tool_choice);
  echo["tools"] = std::move(tools);
  echo["top_p"] = std::move(top_p);
  echo["truncation"] = "disabled";
  echo["user"] = std::move(user);
  echo["metadata"] = std::move(metadata);
  if ((v = json_field(body, "safety_identifier"))) echo["safety_identifier"] = *v;
  if ((v = json_field(body, "prompt_cache_key"))) echo["prompt_cache_key"] = *v;
  return r;
}

}  // namespace sluice::api
