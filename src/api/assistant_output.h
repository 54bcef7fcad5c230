#pragma once
// One sequence's generated text -> reasoning, content and tool calls, streaming: the reasoning
// parser runs first and the tool-call parser reads its content. Both protocols' responses use it.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/output_plan.h"
#include "parsers/reasoning_parser.h"
#include "parsers/tool_parser.h"

namespace sluice::api {

struct AssistantEvent {
  enum class Kind { kReasoning, kContent, kToolBegin, kToolArguments, kToolEnd };
  Kind kind = Kind::kContent;
  std::string text;  // kReasoning, kContent, kToolArguments
  int tool_index = 0;
  std::string tool_id, tool_name;  // kToolBegin
};

struct AssistantMessage {
  struct Call {
    std::string id, name, arguments;
  };
  std::string reasoning, content;
  std::vector<Call> calls;
};

class AssistantOutputParser {
 public:
  // id_prefix: "call_" (OpenAI) or "toolu_" (Anthropic) for the generated tool-call ids.
  AssistantOutputParser(const OutputPlan& plan, std::string id_prefix);
  void feed(std::string_view text, std::vector<AssistantEvent>& out);
  void finish(std::vector<AssistantEvent>& out);
  bool parses_anything() const { return reasoning_ || tools_; }

 private:
  void content(std::string_view text, std::vector<AssistantEvent>& out);
  void tool_events(std::vector<parsers::ParseEvent>& events, std::vector<AssistantEvent>& out);

  std::string id_prefix_;
  std::unique_ptr<parsers::ReasoningParser> reasoning_;
  std::unique_ptr<parsers::ToolParser> tools_;
  std::vector<parsers::ParseEvent> scratch_;
};

// Applies the events in order: the non-streamed message.
void append_events(AssistantMessage& m, const std::vector<AssistantEvent>& events);
// Whole text at once.
AssistantMessage parse_assistant_text(const OutputPlan& plan, std::string_view text,
                                      const std::string& id_prefix);

// "call_" + 24 random letters and digits.
std::string new_tool_call_id(const std::string& prefix);

}  // namespace sluice::api
