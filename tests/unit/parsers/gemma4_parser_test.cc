// Gemma 4 tool calls: turns rendered by the real template (its thought channel included) parse
// back token by token and byte by byte into the same JSON arguments; the value converter on its
// own; hand-written edge cases.
#include <gtest/gtest.h>

#include "parsers/gemma4_grammar.h"
#include "parsers/gemma4_value.h"
#include "structured/grammar_matcher.h"
#include "template_round_trip.h"

namespace sluice::parsers::testing {
namespace {

const TemplateFrame kCallsTurn = {"google-gemma-4-31B-it.jinja", "<|turn>model\n",
                                  "<|tool_response>"};
const TemplateFrame kTextTurn = {"google-gemma-4-31B-it.jinja", "<|turn>model\n", "<turn|>"};

OJson two_gemma4_calls() {
  return OJson::array(
      {template_call("get_weather", R"({"city": "Paris", "unit": "celsius"})"),
       template_call("search", R"({"query": "ünïcode \"q\" {a:b}, [x] <b>", "max_results": 3,
                                   "safe": true, "filters": {"lang": "fr", "tags": ["a", "b c"],
                                   "score": -1.5, "nested": {"deep": [1, {"k": false}]},
                                   "empty": {}, "none": [], "nothing": null}})")});
}

TEST(Gemma4Template, CallsAlone) {
  std::string turn =
      render_assistant_turn(kCallsTurn, weather_and_search_tools(),
                            {{"role", "assistant"}, {"tool_calls", two_gemma4_calls()}});
  EXPECT_TRUE(turn.starts_with("<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>,unit:"))
      << turn;
  EXPECT_NE(turn.find("nothing:None,"), std::string::npos) << turn;  // Python's spelling
  expect_template_round_trip(kCallsTurn, "gemma4", weather_and_search_tools(),
                             {{"role", "assistant"}, {"tool_calls", two_gemma4_calls()}}, "");
}

TEST(Gemma4Template, CallsThenContent) {
  // The template writes a turn's calls before its text.
  expect_template_round_trip(kCallsTurn, "gemma4", weather_and_search_tools(),
                             {{"role", "assistant"},
                              {"content", "Let me look that up."},
                              {"tool_calls", two_gemma4_calls()}},
                             "Let me look that up.");
}

TEST(Gemma4Template, ThoughtChannelThenCalls) {
  expect_template_round_trip_with_reasoning(kCallsTurn, "gemma4", weather_and_search_tools(),
                                            {{"role", "assistant"},
                                             {"reasoning_content", "Paris, 天气.\nThen search."},
                                             {"tool_calls", two_gemma4_calls()}},
                                            false, "Paris, 天气.\nThen search.", "");
}

TEST(Gemma4Template, TextTurn) {
  expect_template_round_trip(kTextTurn, "gemma4", weather_and_search_tools(),
                             {{"role", "assistant"}, {"content", "Sunny, 21 °C."}},
                             "Sunny, 21 °C.");
}

std::string gemma4_to_json(std::string_view text) {
  Gemma4ValueConverter c;
  std::string json;
  size_t n = c.feed(text, json);
  if (c.state() == Gemma4ValueConverter::State::kReading) c.finish(text.substr(n), json);
  return json;
}

TEST(Gemma4Value, Converts) {
  EXPECT_EQ(gemma4_to_json(R"({a:<|"|>x, "y"<|"|>,b:1,c:true,d:None,e:[1,-2.5e3],f:{g:False}})"),
            R"({"a":"x, \"y\"","b":1,"c":true,"d":null,"e":[1,-2.5e3],"f":{"g":false}})");
  EXPECT_EQ(gemma4_to_json(R"({<|"|>quoted key<|"|>:1, spaced : word here })"),
            R"({"quoted key":1,"spaced":"word here"})");
  EXPECT_EQ(gemma4_to_json("{}"), "{}");
  EXPECT_EQ(gemma4_to_json("{a:[]}"), R"({"a":[]})");
}

TEST(Gemma4Value, StopsAtTheEndOfTheValue) {
  Gemma4ValueConverter c;
  std::string json;
  EXPECT_EQ(c.feed("{a:1}<tool_call|>", json), 5u);
  EXPECT_EQ(c.state(), Gemma4ValueConverter::State::kDone);
  EXPECT_EQ(json, R"({"a":1})");
}

TEST(Gemma4Value, HoldsAPartialQuoteMark) {
  Gemma4ValueConverter c;
  std::string json;
  EXPECT_EQ(c.feed("{a:<|\"|>x<|", json), 9u);
  EXPECT_EQ(json, R"({"a":"x)");
  EXPECT_EQ(c.feed("<|\"|>}", json), 6u);
  EXPECT_EQ(json, R"({"a":"x"})");
}

TEST(Gemma4Value, MalformedFails) {
  Gemma4ValueConverter c;
  std::string json;
  c.feed("{a::1}", json);
  EXPECT_EQ(c.state(), Gemma4ValueConverter::State::kFailed);
}

TEST(Gemma4Grammar, TextOfAJsonValue) {
  EXPECT_EQ(gemma4_text(Json::parse(R"({"b": [1, "x"], "a": {"z": null, "y": true}})")),
            R"({a:{y:true,z:null},b:[1,<|"|>x<|"|>]})");
}

// Whether the calls grammar (any number of calls) accepts all of text, and can end there.
bool grammar_accepts(const std::string& text) {
  static auto vocab = structured::TokenVocab::build(tokenizer("qwen3"));
  auto node = gemma4_calls_grammar(weather_and_search_tools(), std::nullopt, 1, -1);
  EXPECT_TRUE(node.ok()) << node.error();
  auto grammar = structured::compile(*node);
  EXPECT_TRUE(grammar.ok()) << grammar.error();
  structured::GrammarMatcher m(*grammar, vocab);
  EncodeOptions opts;
  opts.parse_special = true;
  for (int32_t id : tokenizer("qwen3").encode(text, opts))
    if (!m.accept(id)) return false;
  return m.can_finish();
}

std::string call(const std::string& name, const std::string& args) {
  return "<|tool_call>call:" + name + args + "<tool_call|>";
}

TEST(Gemma4Grammar, OptionalMembersAndTheirCommas) {
  const std::string q = "<|\"|>";
  EXPECT_TRUE(grammar_accepts(call("get_weather", "{city:" + q + "Paris" + q + "}")));
  EXPECT_TRUE(grammar_accepts(call("search", "{query:" + q + "x" + q + ",safe:false}")));
  EXPECT_TRUE(grammar_accepts(call("search", "{max_results:2,query:" + q + "x" + q + "}")));
  EXPECT_TRUE(grammar_accepts(call(
      "search", "{filters:{lang:" + q + "fr" + q + ",n:[1,true]},query:" + q + "x" + q + "}")));
  EXPECT_FALSE(grammar_accepts(call("search", "{safe:false}")));  // query is required
  EXPECT_FALSE(grammar_accepts(call("search", "{query:" + q + "x" + q + ",}")));
  EXPECT_FALSE(grammar_accepts(call("search", "{,query:" + q + "x" + q + "}")));
  EXPECT_FALSE(grammar_accepts(call("search", "{safe:false,query:" + q + "x" + q + "}")));
  EXPECT_FALSE(grammar_accepts(call("search", "{max_results:2.5,query:" + q + "x" + q + "}")));
}

TEST(Gemma4Grammar, AcceptsWhatTheTemplateWrites) {
  OJson calls = OJson::array(
      {template_call("get_weather", R"({"city": "Paris", "unit": "fahrenheit"})"),
       template_call("search", R"({"query": "ünï {a:b}, [x]", "max_results": 3, "safe": true,
                                   "filters": {"lang": "fr", "tags": ["a", "b"], "n": -1.5}})")});
  std::string turn = render_assistant_turn(kCallsTurn, weather_and_search_tools(),
                                           {{"role", "assistant"}, {"tool_calls", calls}});
  EXPECT_TRUE(grammar_accepts(turn)) << turn;
}

class Gemma4Cases : public ::testing::TestWithParam<ToolCase> {};

TEST_P(Gemma4Cases, Parses) {
  check_tool_case("gemma4", "qwen2_5", weather_and_search_tools(), GetParam());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, Gemma4Cases,
    ::testing::Values(
        ToolCase{"text_around",
                 "Sure. <|tool_call>call:ping{}<tool_call|> done",
                 "Sure. done",
                 {{"ping", "{}"}}},
        ToolCase{"no_arguments", "<|tool_call>call:ping<tool_call|>", "", {{"ping", "{}"}}},
        ToolCase{"end_of_turn_dropped",
                 "<|tool_call>call:search{query:<|\"|>a<|\"|>}<tool_call|><|tool_response>",
                 "",
                 {{"search", R"({"query":"a"})"}}},
        ToolCase{"not_a_call_is_content", "x <|tool_call>\nnope", "x <|tool_call>\nnope", {}},
        ToolCase{"partial_marker_is_content", "a <|tool_ca", "a <|tool_ca", {}},
        ToolCase{"cut_in_string",
                 "<|tool_call>call:search{query:<|\"|>wea",
                 "",
                 {{"search", R"({"query":"wea)"}}},
        ToolCase{"malformed_arguments_end_at_the_close",
                 "<|tool_call>call:search{query::1}<tool_call|>ok",
                 "ok",
                 {{"search", R"({"query":)"}}}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace sluice::parsers::testing
