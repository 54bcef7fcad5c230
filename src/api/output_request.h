#pragma once
// What a request asks of the shape of the output, whatever the protocol: tools and how they may
// be called, a JSON format, thinking. The OpenAI and Anthropic parsers fill it; output_plan.h
// turns it into a prompt, a grammar constraint and per-sequence output parsers.
#include <cstdint>
#include <optional>
#include <string>

#include "api/json_fields.h"

namespace sluice::api {

struct ToolRequest {
  enum class Choice { kAuto, kNone, kRequired, kNamed };
  Json functions = Json::array();  // [{name, description?, parameters?}] (OpenAI function objects)
  Choice choice = Choice::kAuto;
  std::string named;            // kNamed: the function that must be called
  bool parallel = true;         // more than one call allowed
  std::string param = "tools";  // names the request field in errors
  std::string choice_param = "tool_choice";
};

struct FormatRequest {
  enum class Kind { kText, kJsonObject, kJsonSchema };
  Kind kind = Kind::kText;
  Json schema;  // kJsonSchema
  std::string param = "response_format";
};

struct ThinkingRequest {
  std::optional<bool> enabled;  // unset: the template's default
  int32_t budget = -1;          // tokens inside the reasoning section; < 0: the server default
};

struct OutputRequest {
  ToolRequest tools;
  FormatRequest format;
  ThinkingRequest thinking;
};

}  // namespace sluice::api
