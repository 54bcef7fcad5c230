#pragma once
// Turns what a request asks of its output (tools, JSON format, thinking) into: the template's
// input (tools, enable_thinking), the engine's grammar constraint and reasoning control, and what
// the responses need to parse each sequence's text (tool-call format, reasoning tags).
#include <memory>
#include <optional>
#include <string>

#include "api/chat_prompt.h"
#include "api/output_request.h"
#include "api/server_context.h"
#include "engine/request.h"
#include "parsers/tool_parser.h"

namespace sluice::api {

struct ReasoningTags {
  std::string open = "<think>", close = "</think>";
};

struct OutputPlan {
  std::shared_ptr<const parsers::ToolFormat> tool_format;  // null: tool calls are not parsed
  parsers::ToolSpec tool_spec;
  std::optional<ReasoningTags> reasoning;  // set: the output is split into reasoning and content
  bool reasoning_starts_inside = false;    // the prompt opened the section
};

// Chat requests, before rendering: checks tools / tool_choice / format (400 naming the field) and
// fills `in` (tools for the template, or a system text for templates that know no tools;
// enable_thinking).
OutputPlan plan_chat_output(const ServerContext& ctx, const OutputRequest& req,
                            ChatPromptInput& in);

// After rendering (`prompt_text`; empty for completions): the grammar constraint (compile errors
// are 400s naming the field) and the reasoning control of the engine request.
void apply_output_plan(ServerContext& ctx, const OutputRequest& req, OutputPlan& plan,
                       const std::string& prompt_text, EngineRequest& er);

// Once the model is loaded: the tool-call format and reasoning tags, from the flags
// (--tool-call-parser, --reasoning-parser) or the chat template.
void configure_output_parsing(ServerContext& ctx);

}  // namespace sluice::api
