#pragma once
// Round trips through a family's real chat template: an assistant turn with tool calls is
// rendered by the template, and the text the model would have written parses back, streamed
// token by token and byte by byte, into the same calls, content and reasoning.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "parser_test_util.h"
#include "tokenizer/chat_template/chat_template.h"

namespace sluice::parsers::testing {

using OJson = nlohmann::ordered_json;

inline std::string read_template_file(const std::string& name) {
  std::ifstream in(testdata_dir() + "/templates/" + name);
  EXPECT_TRUE(in.good()) << "missing template " << name;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// How a family's template frames the assistant turn: the header the prompt writes (not the
// model) and the end-of-turn token generation stops at (not fed to the parser).
struct TemplateFrame {
  std::string file;
  std::string assistant_prefix;
  std::string end_of_turn;
  // Text edits applied to the template first (a statement the sandbox refuses, say).
  std::vector<std::pair<std::string, std::string>> edits = {};
  // The template's text itself, for a family with no template file in the test data.
  std::string text = {};
};

inline std::string template_text(const TemplateFrame& frame) {
  std::string text = frame.text.empty() ? read_template_file(frame.file) : frame.text;
  for (const auto& [from, to] : frame.edits) {
    size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << "template edit not found: " << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
  }
  return text;
}

inline OJson tools_for_template(const ToolSpec& spec) {
  OJson tools = OJson::array();
  for (const auto& f : spec.functions) tools.push_back({{"type", "function"}, {"function", f}});
  return tools;
}

// A call as chat messages carry it (arguments as a mapping, as transformers passes them).
inline OJson template_call(const std::string& name, const std::string& arguments_json) {
  return {{"type", "function"},
          {"id", "call_" + name},
          {"function", {{"name", name}, {"arguments", OJson::parse(arguments_json)}}}};
}

// The text of the assistant turn as the model would write it.
inline std::string render_assistant_turn(const TemplateFrame& frame, const ToolSpec& spec,
                                         const OJson& assistant) {
  auto tpl = ChatTemplate::parse(template_text(frame));
  EXPECT_TRUE(tpl.ok()) << (tpl.ok() ? "" : tpl.error());
  if (!tpl.ok()) return "";
  OJson user = {{"role", "user"}, {"content", "What is the weather in Paris?"}};
  OJson ctx = {{"messages", OJson::array({user})},
               {"tools", tools_for_template(spec)},
               {"bos_token", ""},
               {"eos_token", ""},
               {"add_generation_prompt", false}};
  auto before = tpl->render(ctx);
  ctx["messages"].push_back(assistant);
  auto full = tpl->render(ctx);
  EXPECT_TRUE(before.ok() && full.ok()) << (full.ok() ? "" : full.error());
  if (!before.ok() || !full.ok()) return "";
  EXPECT_TRUE(full->starts_with(*before)) << *full;
  std::string turn = full->substr(before->size());
  EXPECT_TRUE(turn.starts_with(frame.assistant_prefix)) << turn;
  turn = turn.substr(std::min(turn.size(), frame.assistant_prefix.size()));
  size_t end = turn.rfind(frame.end_of_turn);
  EXPECT_NE(end, std::string::npos) << turn;
  return end == std::string::npos ? turn : turn.substr(0, end);
}

inline void expect_same_calls(const std::vector<ToolCall>& got, const OJson& tool_calls) {
  ASSERT_EQ(got.size(), tool_calls.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const OJson& f = tool_calls[i]["function"];
    EXPECT_EQ(got[i].name, f["name"].get<std::string>());
    auto args = nlohmann::json::parse(got[i].arguments, nullptr, false);
    ASSERT_FALSE(args.is_discarded()) << got[i].arguments;
    OJson want = f["arguments"].is_string() ? OJson::parse(f["arguments"].get<std::string>())
                                            : f["arguments"];
    EXPECT_EQ(args, nlohmann::json::parse(want.dump())) << got[i].arguments;
  }
}

// Renders `assistant` through the template and parses the turn back with format_name.
inline ParsedOutput expect_template_round_trip(const TemplateFrame& frame,
                                               const std::string& format_name, const ToolSpec& spec,
                                               const OJson& assistant,
                                               const std::string& expected_content) {
  std::string turn = render_assistant_turn(frame, spec, assistant);
  auto format = make_tool_format(format_name);
  EXPECT_NE(format, nullptr);
  if (!format) return {};
  ParsedOutput out = expect_split_invariant(*format, spec, token_pieces("qwen2_5", turn));
  EXPECT_EQ(out.content, expected_content) << turn;
  expect_same_calls(out.calls, assistant.value("tool_calls", OJson::array()));
  return out;
}

// Reasoning then the turn, as the API runs them: the reasoning parser first, its content into
// the tool parser; one piece at a time.
inline ParsedOutput parse_with_reasoning(const ToolFormat& format, const ToolSpec& spec,
                                         bool starts_inside, const std::vector<std::string>& pieces,
                                         const ReasoningTags& tags = {}) {
  ReasoningParser reasoning(tags, starts_inside);
  auto tools = format.make_parser(spec);
  std::vector<ParseEvent> events;
  ParsedOutput out;
  auto take = [&](const ReasoningDelta& d) {
    out.reasoning += d.reasoning;
    tools->feed(d.content, events);
  };
  for (const std::string& p : pieces) take(reasoning.feed(p));
  take(reasoning.finish());
  tools->finish(events);
  for (const ParseEvent& e : merge(events)) {
    if (e.kind == ParseEvent::Kind::kContent) out.content += e.text;
    if (e.kind == ParseEvent::Kind::kToolCallBegin) out.calls.push_back({e.name, ""});
    if (e.kind == ParseEvent::Kind::kToolArguments) out.calls.back().arguments += e.text;
  }
  return out;
}

}  // namespace sluice::parsers::testing

namespace sluice::parsers::testing {

// A turn that carries its own reasoning section (the tags the template's detection gives):
// rendered, then parsed with the reasoning parser in front, token by token and byte by byte.
inline void expect_template_round_trip_with_reasoning(const TemplateFrame& frame,
                                                      const std::string& format_name,
                                                      const ToolSpec& spec, const OJson& assistant,
                                                      bool starts_inside,
                                                      const std::string& expected_reasoning,
                                                      const std::string& expected_content) {
  std::optional<ReasoningTags> tags = detect_reasoning_tags(template_text(frame));
  ASSERT_TRUE(tags) << frame.file;
  std::string turn = render_assistant_turn(frame, spec, assistant);
  auto format = make_tool_format(format_name);
  ASSERT_NE(format, nullptr);
  std::vector<std::string> bytes;
  for (char c : turn) bytes.emplace_back(1, c);
  for (const auto& pieces : {token_pieces("qwen2_5", turn), bytes, {turn}}) {
    ParsedOutput out = parse_with_reasoning(*format, spec, starts_inside, pieces, *tags);
    EXPECT_EQ(out.reasoning, expected_reasoning) << turn;
    EXPECT_EQ(out.content, expected_content) << turn;
    expect_same_calls(out.calls, assistant.value("tool_calls", OJson::array()));
  }
}

}  // namespace sluice::parsers::testing
