#pragma once
// Turns what a request asks of its output (tools, JSON format, thinking) into: the template's
// input (tools, enable_thinking), the engine's grammar constraint and reasoning control, and what
// the responses need to parse each sequence's text (tool-call format, reasoning tags).
#include <memory>
#include <optional>
#include <string>

#include "api/chat_prompt.h"
#include "api/model_context.h"
#include "api/output_request.h"
#include "engine/request.h"
#include "parsers/reasoning_parser.h"
#include "parsers/tool_parser.h"

namespace sluice::api {

using parsers::ReasoningTags;  // the reasoning section's open and close markers

struct OutputPlan {
  // null: tool calls are not parsed. Formats with their own reasoning section (harmony) are set
  // without tools too: they frame every message.
  std::shared_ptr<const parsers::ToolFormat> tool_format;
  parsers::ToolSpec tool_spec;
  std::optional<ReasoningTags> reasoning;  // set: the output is split into reasoning and content
  bool reasoning_starts_inside = false;    // the prompt opened the section
  // Markup of the output the prompt already wrote (a harmony prefill's "<|channel|>final
  // <|message|>"): the parser reads it first, its events dropped.
  std::string output_prefix;
  // Whether responses carry reasoning (a tagged section or the format's own).
  bool parses_reasoning() const {
    return reasoning || (tool_format && tool_format->reasoning_section());
  }
};

// Chat requests, before rendering: checks tools / tool_choice / format (400 naming the field) and
// fills `in` (tools for the template, or a system text for templates that know no tools;
// enable_thinking; reasoning_effort for templates that read it, gpt-oss's: there a request with
// thinking off gets "low", the least that harmony models reason).
OutputPlan plan_chat_output(const ModelContext& ctx, const OutputRequest& req, ChatPromptInput& in);

// After rendering (`prompt_text`; empty for completions): the grammar constraint (compile errors
// are 400s naming the field) and the reasoning control of the engine request.
void apply_output_plan(ModelContext& ctx, const OutputRequest& req, OutputPlan& plan,
                       const std::string& prompt_text, EngineRequest& er);

// Once the model is loaded: the tool-call format and reasoning tags, from the flags
// (--tool-call-parser, --reasoning-parser) or the chat template; whether the template is
// harmony's (rendered by harmony_prompt.h) and whether it reads `reasoning_effort`.
void configure_output_parsing(ModelContext& ctx);

}  // namespace sluice::api
