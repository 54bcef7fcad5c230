// gpt-oss harmony output: channels -> reasoning / content / calls, the split property on each
// output (special tokens as single pieces, the text between them Qwen3-tokenized), malformed and
// cut outputs, and the calls / answer grammars.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "parser_test_util.h"
#include "structured/grammar_matcher.h"

namespace sluice::parsers::testing {
namespace {

// Pieces as a gpt-oss model emits them: each marker one token, text in between tokenized.
std::vector<std::string> harmony_pieces(const std::string& text) {
  static const char* kMarkers[] = {"<|start|>", "<|channel|>", "<|constrain|>", "<|message|>",
                                   "<|end|>",   "<|call|>",    "<|return|>"};
  std::vector<std::string> pieces;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t next = text.size(), len = 0;
    for (const char* m : kMarkers) {
      size_t at = text.find(m, pos);
      if (at < next) next = at, len = std::strlen(m);
    }
    if (next > pos)
      for (std::string& p : token_pieces("qwen3", text.substr(pos, next - pos)))
        if (!p.empty()) pieces.push_back(std::move(p));
    if (len > 0) pieces.push_back(text.substr(next, len));
    pos = next + len;
  }
  return pieces;
}

struct HarmonyCase {
  std::string name;
  std::string text;
  std::string reasoning;
  std::string content;
  std::vector<ToolCall> calls;
};
void PrintTo(const HarmonyCase& c, std::ostream* os) {
  *os << c.name;
}

std::vector<HarmonyCase> harmony_cases() {
  const std::string a = "<|start|>assistant";
  return {
      {"analysis_then_final",
       "<|channel|>analysis<|message|>User greets. Reply briefly.<|end|>" + a +
           "<|channel|>final<|message|>Hello! How can I help?",
       "User greets. Reply briefly.",
       "Hello! How can I help?",
       {}},
      {"return_token_kept_in_text",
       "<|channel|>analysis<|message|>Easy.<|end|>" + a + "<|channel|>final<|message|>4<|return|>",
       "Easy.",
       "4",
       {}},
      {"call_recipient_in_channel",
       "<|channel|>analysis<|message|>Need the weather.<|end|>" + a +
           "<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>"
           "{\"city\":\"Paris\"}<|call|>",
       "Need the weather.",
       "",
       {{"get_weather", R"({"city":"Paris"})"}}},
      {"call_recipient_in_role",
       "<|channel|>analysis<|message|>x<|end|><|start|>assistant to=functions.get_weather"
       "<|channel|>commentary json<|message|>{\"city\": \"Oslo\"}",
       "x",
       "",
       {{"get_weather", R"({"city": "Oslo"})"}}},
      {"first_header_has_the_recipient",
       " to=functions.search<|channel|>commentary <|constrain|>json<|message|>{\"query\":\"q\"}",
       "",
       "",
       {{"search", R"({"query":"q"})"}}},
      {"preamble_is_content",
       "<|channel|>commentary<|message|>Let me check.<|end|>" + a +
           "<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>"
           "{\"city\":\"Rome\"}<|call|>",
       "",
       "Let me check.",
       {{"get_weather", R"({"city":"Rome"})"}}},
      {"final_only", "<|channel|>final<|message|>42", "", "42", {}},
      {"two_analysis_messages",
       "<|channel|>analysis<|message|>A. <|end|>" + a + "<|channel|>analysis<|message|>B.<|end|>" +
           a + "<|channel|>final<|message|>C",
       "A. B.",
       "C",
       {}},
      {"unknown_channel_is_content",
       "<|channel|>notes<|message|>odd <|end|>" + a + "<|channel|>final<|message|>ok",
       "",
       "odd ok",
       {}},
      {"no_header_is_content", "Hello there, no channel.", "", "Hello there, no channel.", {}},
      {"invalid_json_arguments_kept",
       "<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{city: Paris",
       "",
       "",
       {{"get_weather", "{city: Paris"}}},
      {"empty_arguments",
       "<|channel|>commentary to=functions.ping <|constrain|>json<|message|><|call|>",
       "",
       "",
       {{"ping", "{}"}}},
      {"arguments_trimmed",
       "<|channel|>commentary to=functions.search <|constrain|>json<|message|> \n{\"query\": \"a "
       "b\"}\n <|call|>",
       "",
       "",
       {{"search", R"({"query": "a b"})"}}},
      {"cut_inside_analysis",
       "<|channel|>analysis<|message|>Thinking about",
       "Thinking about",
       "",
       {}},
      {"cut_inside_a_header",
       "<|channel|>analysis<|message|>T<|end|>" + a + "<|channel|>fin",
       "T",
       "",
       {}},
      {"cut_after_the_recipient",
       "<|channel|>commentary to=functions.search <|constr",
       "",
       "",
       {{"search", "{}"}}},
      {"cut_inside_the_recipient", "<|channel|>commentary to=functions.sea", "", "", {}},
      {"unicode",
       "<|channel|>analysis<|message|>思考 😀 naïve<|end|>" + a +
           "<|channel|>final<|message|>Привет, 世界 🎉",
       "思考 😀 naïve",
       "Привет, 世界 🎉",
       {}},
      {"builtin_tool_recipient",
       "<|channel|>analysis to=python code<|message|>print(1)<|call|>",
       "",
       "",
       {{"python", "print(1)"}}},
      {"text_after_end_without_start", "<|channel|>final<|message|>A<|end|>B", "", "AB", {}},
      {"malformed_header_is_content", "<|channel|>final<|end|>x", "", "<|channel|>finalx", {}},
      {"recipient_assistant_is_no_call",
       "<|channel|>commentary to=assistant<|message|>hi",
       "",
       "hi",
       {}},
      {"stray_commentary_before_analysis",
       "<|channel|>commentary<|channel|>analysis<|message|>r<|end|>" + a +
           "<|channel|>final<|message|>f",
       "r",
       "f",
       {}},
      {"two_calls_without_end_of_generation",
       "<|channel|>commentary to=functions.ping <|constrain|>json<|message|>{}<|call|>" + a +
           "<|channel|>commentary to=functions.search <|constrain|>json<|message|>"
           "{\"query\":\"x\"}<|call|>",
       "",
       "",
       {{"ping", "{}"}, {"search", R"({"query":"x"})"}}},
  };
}

class HarmonyParserTest : public ::testing::TestWithParam<HarmonyCase> {};

TEST_P(HarmonyParserTest, SplitInvariantAndExact) {
  const HarmonyCase& c = GetParam();
  auto format = make_tool_format("harmony");
  ASSERT_NE(format, nullptr);
  ParsedOutput out =
      expect_split_invariant(*format, weather_and_search_tools(), harmony_pieces(c.text));
  EXPECT_EQ(out.reasoning, c.reasoning);
  EXPECT_EQ(out.content, c.content);
  ASSERT_EQ(out.calls.size(), c.calls.size());
  for (size_t i = 0; i < c.calls.size(); ++i) {
    EXPECT_EQ(out.calls[i].name, c.calls[i].name);
    EXPECT_EQ(out.calls[i].arguments, c.calls[i].arguments);
  }
}

INSTANTIATE_TEST_SUITE_P(Outputs, HarmonyParserTest, ::testing::ValuesIn(harmony_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(HarmonyParser, CallBeginsOnceTheNameIsComplete) {
  auto parser = make_tool_format("harmony")->make_parser(weather_and_search_tools());
  std::vector<ParseEvent> events;
  parser->feed("<|channel|>commentary to=functions.get_weath", events);
  EXPECT_TRUE(events.empty());
  parser->feed("er <|constrain|>js", events);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, ParseEvent::Kind::kToolCallBegin);
  EXPECT_EQ(events[0].name, "get_weather");
  parser->feed("on<|message|>{\"city\":", events);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].kind, ParseEvent::Kind::kToolArguments);
  EXPECT_EQ(events[1].text, "{\"city\":");
}

TEST(HarmonyParser, ReasoningStreamsAsItArrives) {
  auto parser = make_tool_format("harmony")->make_parser({});
  std::vector<ParseEvent> events;
  parser->feed("<|channel|>analysis<|message|>Let me <|e", events);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, ParseEvent::Kind::kReasoning);
  EXPECT_EQ(events[0].text, "Let me ");  // "<|e" may begin <|end|>: held
}

TEST(HarmonyFormat, MarkersAndReasoningSection) {
  auto format = make_tool_format("harmony");
  std::vector<std::string> m = format->markers();
  for (const char* t : {"<|start|>", "<|channel|>", "<|message|>", "<|end|>", "<|call|>",
                        "<|return|>", "<|constrain|>"})
    EXPECT_NE(std::find(m.begin(), m.end(), t), m.end()) << t;
  auto section = format->reasoning_section();
  ASSERT_TRUE(section);
  EXPECT_EQ(section->open, "<|channel|>analysis<|message|>");
  EXPECT_EQ(section->close, "<|end|>");
  EXPECT_EQ(make_tool_format("hermes")->reasoning_section(), std::nullopt);
}

// --- grammars (byte-level; driven with Qwen3 tokens, which spell the markers out) ---

std::unique_ptr<structured::GrammarMatcher> compiled(Result<structured::NodePtr> node) {
  EXPECT_TRUE(node.ok()) << node.error();
  if (!node.ok()) return nullptr;
  auto grammar = structured::compile(*node);
  EXPECT_TRUE(grammar.ok()) << grammar.error();
  if (!grammar.ok()) return nullptr;
  static auto vocab = structured::TokenVocab::build(tokenizer("qwen3"));
  return std::make_unique<structured::GrammarMatcher>(*grammar, vocab);
}

// Whether the matcher accepts all of text and is complete after it.
bool accepts(structured::GrammarMatcher& m, const std::string& text) {
  for (int32_t id : tokenizer("qwen3").encode(text, EncodeOptions{.parse_special = false}))
    if (!m.accept(id)) return false;
  return m.can_finish();
}

TEST(HarmonyGrammar, OneCallAfterAnOptionalAnalysisHeader) {
  auto format = make_tool_format("harmony");
  const std::string call =
      "<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>"
      "{\"city\": \"Paris\"}";
  {
    auto m = compiled(format->calls_grammar(weather_and_search_tools(), std::nullopt, 1, -1));
    ASSERT_NE(m, nullptr);
    EXPECT_TRUE(accepts(*m, call));
    EXPECT_TRUE(m->must_finish());
  }
  {  // the analysis body and its <|end|> are the engine's reasoning section: not in the grammar
    auto m = compiled(format->calls_grammar(weather_and_search_tools(), std::nullopt, 1, 1));
    ASSERT_NE(m, nullptr);
    EXPECT_TRUE(accepts(*m, "<|channel|>analysis<|message|><|start|>assistant" + call));
  }
  {  // only search: get_weather refused
    auto m = compiled(format->calls_grammar(weather_and_search_tools(), "search", 1, 1));
    ASSERT_NE(m, nullptr);
    EXPECT_FALSE(accepts(*m, call));
  }
  {  // a schema violation is refused
    auto m = compiled(format->calls_grammar(weather_and_search_tools(), std::nullopt, 1, 1));
    ASSERT_NE(m, nullptr);
    EXPECT_FALSE(accepts(*m,
                         "<|channel|>commentary to=functions.get_weather <|constrain|>json"
                         "<|message|>{\"city\": \"Paris\", \"unit\": \"kelvin\"}"));
  }
  EXPECT_FALSE(format->calls_grammar(weather_and_search_tools(), std::nullopt, 2, -1).ok());
  // What the grammar writes parses back as that call.
  ParsedOutput out = parse_all(*format->make_parser({}), call);
  ASSERT_EQ(out.calls.size(), 1u);
  EXPECT_EQ(out.calls[0].arguments, "{\"city\": \"Paris\"}");
}

TEST(HarmonyGrammar, AnswerIsTheFinalMessage) {
  auto format = make_tool_format("harmony");
  auto m = compiled(format->answer_grammar(structured::any_json_object()));
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(accepts(*m, "<|channel|>final<|message|>{\"a\": 1}"));
  auto m2 = compiled(format->answer_grammar(structured::any_json_object()));
  EXPECT_FALSE(accepts(*m2, "{\"a\": 1}"));
  ParsedOutput out = parse_all(*format->make_parser({}), "<|channel|>final<|message|>{\"a\": 1}");
  EXPECT_EQ(out.content, "{\"a\": 1}");
}

}  // namespace
}  // namespace sluice::parsers::testing
