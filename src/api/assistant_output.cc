#include "api/assistant_output.h"

#include <random>

namespace sluice::api {

namespace {

AssistantEvent text_event(AssistantEvent::Kind kind, std::string text) {
  AssistantEvent e;
  e.kind = kind;
  e.text = std::move(text);
  return e;
}

}  // namespace

AssistantOutputParser::AssistantOutputParser(const OutputPlan& plan, std::string id_prefix)
    : id_prefix_(std::move(id_prefix)) {
  if (plan.reasoning)
    reasoning_ =
        std::make_unique<parsers::ReasoningParser>(*plan.reasoning, plan.reasoning_starts_inside);
  if (plan.tool_format) tools_ = plan.tool_format->make_parser(plan.tool_spec);
  if (tools_ && !plan.output_prefix.empty()) tools_->feed(plan.output_prefix, scratch_);
  scratch_.clear();
}

void AssistantOutputParser::feed(std::string_view text, std::vector<AssistantEvent>& out) {
  if (!reasoning_) return content(text, out);
  parsers::ReasoningDelta d = reasoning_->feed(text);
  if (!d.reasoning.empty())
    out.push_back(text_event(AssistantEvent::Kind::kReasoning, std::move(d.reasoning)));
  if (!d.content.empty()) content(d.content, out);
}

void AssistantOutputParser::finish(std::vector<AssistantEvent>& out) {
  if (reasoning_) {
    parsers::ReasoningDelta d = reasoning_->finish();
    if (!d.reasoning.empty())
      out.push_back(text_event(AssistantEvent::Kind::kReasoning, std::move(d.reasoning)));
    if (!d.content.empty()) content(d.content, out);
  }
  if (tools_) {
    scratch_.clear();
    tools_->finish(scratch_);
    tool_events(scratch_, out);
  }
}

void AssistantOutputParser::content(std::string_view text, std::vector<AssistantEvent>& out) {
  if (!tools_) {
    out.push_back(text_event(AssistantEvent::Kind::kContent, std::string(text)));
    return;
  }
  scratch_.clear();
  tools_->feed(text, scratch_);
  tool_events(scratch_, out);
}

void AssistantOutputParser::tool_events(std::vector<parsers::ParseEvent>& events,
                                        std::vector<AssistantEvent>& out) {
  using K = parsers::ParseEvent::Kind;
  for (parsers::ParseEvent& e : events) {
    AssistantEvent a;
    a.tool_index = e.index;
    switch (e.kind) {
      case K::kContent:
        if (e.text.empty()) continue;
        a.text = std::move(e.text);
        break;
      case K::kToolCallBegin:
        a.kind = AssistantEvent::Kind::kToolBegin;
        a.tool_name = std::move(e.name);
        a.tool_id = new_tool_call_id(id_prefix_);
        break;
      case K::kToolArguments:
        if (e.text.empty()) continue;
        a.kind = AssistantEvent::Kind::kToolArguments;
        a.text = std::move(e.text);
        break;
      case K::kToolCallEnd:
        a.kind = AssistantEvent::Kind::kToolEnd;
        break;
      case K::kReasoning:  // formats with their own reasoning section (harmony)
        if (e.text.empty()) continue;
        a.kind = AssistantEvent::Kind::kReasoning;
        a.text = std::move(e.text);
        break;
    }
    out.push_back(std::move(a));
  }
}

void append_events(AssistantMessage& m, const std::vector<AssistantEvent>& events) {
  using K = AssistantEvent::Kind;
  for (const AssistantEvent& e : events) {
    switch (e.kind) {
      case K::kReasoning:
        m.reasoning += e.text;
        break;
      case K::kContent:
        m.content += e.text;
        break;
      case K::kToolBegin:
        if (e.tool_index >= static_cast<int>(m.calls.size())) m.calls.resize(e.tool_index + 1);
        m.calls[e.tool_index].id = e.tool_id;
        m.calls[e.tool_index].name = e.tool_name;
        break;
      case K::kToolArguments:
        if (e.tool_index >= 0 && e.tool_index < static_cast<int>(m.calls.size()))
          m.calls[e.tool_index].arguments += e.text;
        break;
      case K::kToolEnd:
        break;
    }
  }
}

AssistantMessage parse_assistant_text(const OutputPlan& plan, std::string_view text,
                                      const std::string& id_prefix) {
  AssistantOutputParser p(plan, id_prefix);
  std::vector<AssistantEvent> events;
  p.feed(text, events);
  p.finish(events);
  AssistantMessage m;
  append_events(m, events);
  return m;
}

std::string new_tool_call_id(const std::string& prefix) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string id = prefix;
  for (int i = 0; i < 24; ++i) id += kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
  return id;
}

}  // namespace sluice::api
