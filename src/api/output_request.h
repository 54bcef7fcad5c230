#pragma once
// What a request asks of the shape of the output, whatever the protocol: tools and how they may
// be called, a JSON format, thinking. The OpenAI and Anthropic parsers fill it; output_plan.h
// turns it into a prompt, a grammar constraint and per-sequence output parsers.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "api/json_fields.h"
#include "structured/grammar.h"

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
  enum class Kind { kText, kJsonObject, kJsonSchema, kGrammar };
  Kind kind = Kind::kText;
  Json schema;  // kJsonSchema
  // kGrammar: the output is in this grammar's language (a forced custom tool's input).
  std::string grammar_key;  // names it in the grammar cache
  std::function<Result<structured::NodePtr>()> grammar;
  std::string param = "response_format";
};

struct ThinkingRequest {
  std::optional<bool> enabled;  // unset: the template's default
  int32_t budget = -1;          // tokens inside the reasoning section; < 0: the server default
  // "low" | "medium" | "high": the template's `reasoning_effort` (gpt-oss); unset: its default.
  std::optional<std::string> effort;
  std::string effort_param = "reasoning_effort";
  // A hint (Anthropic output_config.effort): models without an effort setting ignore it; else a
  // model that takes none answers 400.
  bool effort_is_hint = false;
};

struct OutputRequest {
  ToolRequest tools;
  FormatRequest format;
  ThinkingRequest thinking;
};

}  // namespace sluice::api
