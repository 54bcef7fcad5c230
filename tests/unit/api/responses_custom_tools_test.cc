// Responses API custom tools: request parsing, input items, and the output items and events of
// forced calls and of calls made as functions (checked against the grammar).
#include <gtest/gtest.h>

#include "api/responses/custom_tools.h"
#include "api/responses/responses_input.h"
#include "api/responses/responses_output.h"
#include "api/responses/responses_params.h"
#include "structured/lark_grammar.h"

namespace sluice::api {
namespace {

constexpr const char* kCalc = R"({"type": "custom", "name": "calc", "description": "sums",
    "format": {"type": "grammar", "syntax": "lark",
               "definition": "start: INT (\"+\" INT)*\n%import common.INT"}})";

ResponsesRequest parse(const std::string& body) {
  return parse_responses_request(Json::parse(body), ResponsesEndpoint::kCreate);
}

// The 400's param and message, or "" when it parsed.
std::string rejected(const std::string& body) {
  try {
    parse(body);
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 400) << e.what();
    return e.param() + ": " + e.what();
  }
  return "";
}

TEST(ResponsesCustomTools, ParsedAsAFunctionWithOneInputAndEchoed) {
  const ResponsesRequest r =
      parse(std::string(R"({"input": "x", "tools": [)") + kCalc + R"(, {"type": "custom",
      "name": "note"}]})");
  ASSERT_EQ(r.custom.tools.size(), 2u);
  EXPECT_EQ(r.custom.tools[0].syntax, "lark");
  EXPECT_EQ(r.custom.tools[0].param, "tools[0].format.definition");
  EXPECT_EQ(r.custom.tools[1].syntax, "");  // free text
  const Json& f = r.output.tools.functions[0];
  EXPECT_EQ(f["name"], "calc");
  EXPECT_EQ(f["parameters"]["required"], Json::array({"input"}));
  EXPECT_NE(f["description"].get<std::string>().find("Lark grammar"), std::string::npos);
  EXPECT_EQ(r.echo["tools"][0]["format"]["syntax"], "lark");
  EXPECT_EQ(r.echo["tools"][1]["format"], Json::parse(R"({"type": "text"})"));
  EXPECT_EQ(r.output.format.kind, FormatRequest::Kind::kText);
}

TEST(ResponsesCustomTools, ForcedToolConstrainsTheWholeOutput) {
  const ResponsesRequest r = parse(std::string(R"({"input": "x", "tools": [)") + kCalc +
                                   R"(], "tool_choice": {"type": "custom", "name": "calc"}})");
  EXPECT_EQ(r.custom.forced, "calc");
  EXPECT_EQ(r.output.tools.choice, ToolRequest::Choice::kNone);  // no call markup is parsed
  EXPECT_EQ(r.output.format.kind, FormatRequest::Kind::kGrammar);
  EXPECT_EQ(r.output.format.param, "tools[0].format.definition");
  EXPECT_TRUE(r.output.format.grammar().ok());
  EXPECT_EQ(r.echo["tool_choice"]["type"], "custom");
}

TEST(ResponsesCustomTools, BadToolsAreRejectedNamingTheField) {
  EXPECT_EQ(rejected(R"({"input": "x", "tools": [{"type": "custom"}]})"),
            "tools[0].name: tools[0].name is required for a custom tool");
  EXPECT_EQ(rejected(R"({"input": "x", "tools": [{"type": "custom", "name": "c", "format":
      {"type": "grammar", "syntax": "ebnf", "definition": "x"}}]})"),
            "tools[0].format.syntax: tools[0].format.syntax must be 'lark' or 'regex', got 'ebnf'");
  EXPECT_EQ(rejected(R"({"input": "x", "tools": [{"type": "custom", "name": "c", "format":
      {"type": "grammar", "syntax": "lark"}}]})"),
            "tools[0].format.definition: tools[0].format.definition is required");
  EXPECT_EQ(rejected(R"({"input": "x", "tools": [{"type": "custom", "name": "c", "format":
      {"type": "json"}}]})"),
            "tools[0].format: tools[0].format.type must be 'text' or 'grammar', got 'json'");
  EXPECT_EQ(rejected(R"({"input": "x", "tools": [{"type": "custom", "name": "c", "x": 1}]})"),
            "tools[0]: tools[0].x is not a field of a custom tool");
  EXPECT_EQ(rejected(std::string(R"({"input": "x", "tools": [)") + kCalc +
                     R"(], "tool_choice": {"type": "custom", "name": "other"}})"),
            "tool_choice: tool_choice names custom tool 'other', which is not among the custom "
            "tools");
  EXPECT_EQ(rejected(std::string(R"({"input": "x", "tools": [)") + kCalc +
                     R"(], "tool_choice": {"type": "function", "name": "calc"}})"),
            "tool_choice: tool_choice names 'calc', a custom tool: force it with {\"type\": "
            "\"custom\", \"name\": ...}");
  EXPECT_EQ(rejected(std::string(R"({"input": "x", "tools": [)") + kCalc +
                     R"(], "tool_choice": {"type": "custom", "name": "calc"},
                     "text": {"format": {"type": "json_object"}}})"),
            "text.format: text.format cannot be combined with a tool_choice that forces a custom "
            "tool");
}

TEST(ResponsesCustomTools, CallsAndOutputsBecomeToolTurns) {
  const Json messages =
      chat_messages(normalize_input_items(Json::parse(R"([{"role": "user", "content": "add"},
      {"type": "custom_tool_call", "call_id": "c1", "name": "calc", "input": "1+2"},
      {"type": "custom_tool_call_output", "call_id": "c1", "output": "3"}])")),
                    std::nullopt);
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[1]["tool_calls"][0]["function"]["name"], "calc");
  EXPECT_EQ(messages[1]["tool_calls"][0]["function"]["arguments"], R"({"input":"1+2"})");
  EXPECT_EQ(messages[2], Json::parse(R"({"role": "tool", "tool_call_id": "c1", "content": "3",
      "name": "calc"})"));
}

// "event: NAME\ndata: JSON\n\n"... -> the data objects.
std::vector<Json> sse_data_of(const std::string& sse) {
  std::vector<Json> out;
  for (size_t pos = 0; pos < sse.size();) {
    const size_t end = sse.find("\n\n", pos);
    const std::string block = sse.substr(pos, end - pos);
    pos = end + 2;
    out.push_back(Json::parse(block.substr(block.find("\ndata: ") + 7)));
  }
  return out;
}

AssistantEvent custom_ev(AssistantEvent::Kind kind, std::string text = "", std::string name = "") {
  AssistantEvent e;
  e.kind = kind;
  e.text = std::move(text);
  e.tool_id = "call_1";
  e.tool_name = std::move(name);
  return e;
}

CustomToolSet calc_tools() {
  CustomToolSet set;
  CustomTool t;
  t.name = "calc";
  t.syntax = "lark";
  t.definition = "start: INT (\"+\" INT)*\n%import common.INT";
  auto g = structured::compile(*t.root());
  EXPECT_TRUE(g.ok());
  t.grammar = *g;
  set.tools.push_back(std::move(t));
  return set;
}

TEST(ResponsesCustomTools, ForcedCallStreamsItsInput) {
  using K = AssistantEvent::Kind;
  CustomToolSet set = calc_tools();
  set.forced = "calc";
  ResponseOutputWriter w;
  w.set_custom_tools(&set, /*trim_input_start=*/true);
  std::string sse = w.on_events({custom_ev(K::kReasoning, "think"), custom_ev(K::kContent, "\n 1+"),
                                 custom_ev(K::kContent, "2")});
  sse += w.finish(false);
  std::vector<std::string> types;
  std::string deltas;
  for (const Json& e : sse_data_of(sse)) {
    types.push_back(e["type"]);
    if (e["type"] == "response.custom_tool_call_input.delta") deltas += e["delta"];
    if (e["type"] == "response.custom_tool_call_input.done") {
      EXPECT_EQ(e["input"], "1+2");
      EXPECT_EQ(e["output_index"], 1);
    }
  }
  EXPECT_EQ(deltas, "1+2");
  EXPECT_EQ(std::count(types.begin(), types.end(), "response.custom_tool_call_input.delta"), 2);
  ASSERT_EQ(w.items().size(), 2u);
  const Json& call = w.items()[1];
  EXPECT_EQ(call["type"], "custom_tool_call");
  EXPECT_EQ(call["name"], "calc");
  EXPECT_EQ(call["input"], "1+2");
  EXPECT_EQ(call["status"], "completed");
  EXPECT_EQ(call["id"].get<std::string>().rfind("ctc_", 0), 0u);
}

TEST(ResponsesCustomTools, ForcedCallWithNoOutputHasAnEmptyInput) {
  CustomToolSet set = calc_tools();
  set.forced = "calc";
  ResponseOutputWriter w;
  w.set_custom_tools(&set, false);
  w.finish(true);
  ASSERT_EQ(w.items().size(), 1u);
  EXPECT_EQ(w.items()[0]["input"], "");
  EXPECT_EQ(w.items()[0]["status"], "incomplete");
}

TEST(ResponsesCustomTools, CallsAsFunctionsAreCheckedAgainstTheGrammar) {
  using K = AssistantEvent::Kind;
  const CustomToolSet set = calc_tools();
  ResponseOutputWriter w;
  w.set_custom_tools(&set, false);
  w.on_events({custom_ev(K::kToolBegin, "", "calc"), custom_ev(K::kToolArguments, R"({"input": )"),
               custom_ev(K::kToolArguments, R"("1+2"})"), custom_ev(K::kToolEnd),
               custom_ev(K::kToolBegin, "", "calc"),
               custom_ev(K::kToolArguments, R"({"input": "1+"})"), custom_ev(K::kToolEnd),
               custom_ev(K::kToolBegin, "", "calc"), custom_ev(K::kToolArguments, "[1]"),
               custom_ev(K::kToolEnd)});
  w.finish(false);
  ASSERT_EQ(w.items().size(), 3u);
  EXPECT_EQ(w.items()[0]["input"], "1+2");
  EXPECT_EQ(w.items()[0]["status"], "completed");
  EXPECT_EQ(w.items()[0]["call_id"], "call_1");
  EXPECT_EQ(w.items()[1]["input"], "1+");  // not in the grammar's language
  EXPECT_EQ(w.items()[1]["status"], "incomplete");
  EXPECT_EQ(w.items()[2]["input"], "[1]");  // not {"input": ...}: the arguments as written
  EXPECT_EQ(w.items()[2]["status"], "incomplete");
}

}  // namespace
}  // namespace sluice::api
