// Each format's calls_grammar: compiled, driven by a GrammarMatcher over Qwen3 tokens of a valid
// output (accepted, complete, and parsed back to the same calls by the format's parser); wrong
// names, schema violations, `only` and the call counts are refused. Random walks over the masks
// check that whatever the grammar lets a model write, the parser reads as calls and no content.
#include <gtest/gtest.h>

#include <random>

#include "parser_test_util.h"
#include "parsers/tool_spec_util.h"
#include "structured/grammar_matcher.h"

namespace sluice::parsers::testing {
namespace {

using structured::GrammarMatcher;
using structured::TokenVocab;

ToolSpec grammar_tools() {
  ToolSpec spec = weather_and_search_tools();
  spec.functions.push_back({{"name", "ping"}, {"description", "no parameters"}});
  return spec;
}

std::shared_ptr<const TokenVocab> qwen3_vocab() {
  static auto vocab = TokenVocab::build(tokenizer("qwen3"));
  return vocab;
}

std::unique_ptr<GrammarMatcher> matcher_for(const std::string& format_name,
                                            const std::optional<std::string>& only, int min_calls,
                                            int max_calls) {
  auto format = make_tool_format(format_name);
  auto node = format->calls_grammar(grammar_tools(), only, min_calls, max_calls);
  EXPECT_TRUE(node.ok()) << node.error();
  if (!node.ok()) return nullptr;
  auto grammar = structured::compile(*node);
  EXPECT_TRUE(grammar.ok()) << grammar.error();
  if (!grammar.ok()) return nullptr;
  return std::make_unique<GrammarMatcher>(*grammar, qwen3_vocab());
}

// How many tokens of text the matcher accepts, and whether it can finish after all of them.
struct Drive {
  size_t accepted = 0;
  size_t total = 0;
  bool complete = false;
};
Drive drive(GrammarMatcher& m, const std::string& text) {
  EncodeOptions opts;
  opts.parse_special = true;
  std::vector<int32_t> ids = tokenizer("qwen3").encode(text, opts);
  Drive d;
  d.total = ids.size();
  for (int32_t id : ids) {
    if (!m.accept(id)) return d;
    ++d.accepted;
  }
  d.complete = m.can_finish();
  return d;
}

struct FormatTexts {
  std::string format;
  std::string two_calls;   // get_weather(Paris, celsius) then ping()
  std::string bad_name;    // a call to a function that is not a tool
  std::string bad_schema;  // unit outside its enum
};

std::vector<FormatTexts> format_texts() {
  return {
      {"hermes",
       "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": "
       "\"celsius\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"ping\", \"arguments\": {}}\n"
       "</tool_call>",
       "<tool_call>\n{\"name\": \"pong\", \"arguments\": {}}\n</tool_call>",
       "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": "
       "\"kelvin\"}}\n</tool_call>"},
      {"llama3_json",
       "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\", \"unit\": \"celsius\"}}; "
       "{\"name\": \"ping\", \"parameters\": {}}",
       "{\"name\": \"pong\", \"parameters\": {}}",
       "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\", \"unit\": \"kelvin\"}}"},
      {"mistral",
       "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": "
       "\"celsius\"}}, {\"name\": \"ping\", \"arguments\": {}}]",
       "[TOOL_CALLS][{\"name\": \"pong\", \"arguments\": {}}]",
       "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": "
       "\"kelvin\"}}]"},
      {"json",
       "[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"celsius\"}}, "
       "{\"name\": \"ping\", \"arguments\": {}}]",
       "[{\"name\": \"pong\", \"arguments\": {}}]",
       "[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"kelvin\"}}]"},
      {"qwen3_coder",
       "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n"
       "<parameter=unit>\ncelsius\n</parameter>\n</function>\n</tool_call>\n<tool_call>\n"
       "<function=ping>\n</function>\n</tool_call>",
       "<tool_call>\n<function=pong>\n</function>\n</tool_call>",
       "<tool_call>\n<function=search>\n<parameter=query>\nx\n</parameter>\n"
       "<parameter=max_results>\nmany\n</parameter>\n</function>\n</tool_call>"},
      {"deepseek_v3",
       "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n"
       "{\"city\": \"Paris\", \"unit\": \"celsius\"}\n```<｜tool▁call▁end｜>\n"
       "<｜tool▁call▁begin｜>function<｜tool▁sep｜>ping\n```json\n{}\n```<｜tool▁call▁end｜>"
       "<｜tool▁calls▁end｜>",
       "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>pong\n```json\n{}\n```"
       "<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
       "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n"
       "{\"city\": \"Paris\", \"unit\": \"kelvin\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>"},
      {"deepseek_v31",
       "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{\"city\": \"Paris\", "
       "\"unit\": \"celsius\"}<｜tool▁call▁end｜><｜tool▁call▁begin｜>ping<｜tool▁sep｜>{}"
       "<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
       "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>pong<｜tool▁sep｜>{}<｜tool▁call▁end｜>"
       "<｜tool▁calls▁end｜>",
       "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{\"city\": \"Paris\", "
       "\"unit\": \"kelvin\"}<｜tool▁call▁end｜><｜tool▁calls▁end｜>"},
      {"kimi_k2",
       "<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0"
       "<|tool_call_argument_begin|>{\"city\": \"Paris\", \"unit\": \"celsius\"}"
       "<|tool_call_end|><|tool_call_begin|>functions.ping:1<|tool_call_argument_begin|>{}"
       "<|tool_call_end|><|tool_calls_section_end|>",
       "<|tool_calls_section_begin|><|tool_call_begin|>functions.pong:0"
       "<|tool_call_argument_begin|>{}<|tool_call_end|><|tool_calls_section_end|>",
       "<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0"
       "<|tool_call_argument_begin|>{\"city\": \"Paris\", \"unit\": \"kelvin\"}"
       "<|tool_call_end|><|tool_calls_section_end|>"},
      {"glm45",
       "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n"
       "<arg_key>unit</arg_key>\n<arg_value>celsius</arg_value>\n</tool_call>\n"
       "<tool_call>ping\n</tool_call>",
       "<tool_call>pong\n</tool_call>",
       "<tool_call>search\n<arg_key>query</arg_key>\n<arg_value>x</arg_value>\n"
       "<arg_key>max_results</arg_key>\n<arg_value>many</arg_value>\n</tool_call>"},
      {"minimax_m2",
       "<minimax:tool_call>\n<invoke name=\"get_weather\">\n<parameter name=\"city\">Paris"
       "</parameter>\n<parameter name=\"unit\">celsius</parameter>\n</invoke>\n"
       "<invoke name=\"ping\">\n</invoke>\n</minimax:tool_call>",
       "<minimax:tool_call>\n<invoke name=\"pong\">\n</invoke>\n</minimax:tool_call>",
       "<minimax:tool_call>\n<invoke name=\"search\">\n<parameter name=\"query\">x"
       "</parameter>\n<parameter name=\"max_results\">many</parameter>\n</invoke>\n"
       "</minimax:tool_call>"},
      {"granite",
       "<|tool_call|>[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", "
       "\"unit\": \"celsius\"}}, {\"name\": \"ping\", \"arguments\": {}}]",
       "<|tool_call|>[{\"name\": \"pong\", \"arguments\": {}}]",
       "<|tool_call|>[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", "
       "\"unit\": \"kelvin\"}}]"},
      {"functionary_v3", "get_weather\n{\"city\": \"Paris\", \"unit\": \"celsius\"}>>>ping\n{}",
       "pong\n{}", "get_weather\n{\"city\": \"Paris\", \"unit\": \"kelvin\"}"},
      {"gemma4",
       "<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>,unit:<|\"|>celsius<|\"|>}"
       "<tool_call|><|tool_call>call:ping{}<tool_call|>",
       "<|tool_call>call:pong{}<tool_call|>",
       "<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>,unit:<|\"|>kelvin<|\"|>}"
       "<tool_call|>"},
      {"pythonic", "[get_weather(city=\"Paris\", unit=\"celsius\"), ping()]", "[pong()]",
       "[get_weather(city=\"Paris\", unit=\"kelvin\")]"},
  };
}

void PrintTo(const FormatTexts& t, std::ostream* os) {
  *os << t.format;
}

class CallsGrammarTest : public ::testing::TestWithParam<FormatTexts> {};

TEST_P(CallsGrammarTest, AcceptsValidCallsThatTheParserReadsBack) {
  const FormatTexts& t = GetParam();
  auto m = matcher_for(t.format, std::nullopt, 1, -1);
  ASSERT_NE(m, nullptr);
  Drive d = drive(*m, t.two_calls);
  EXPECT_EQ(d.accepted, d.total);
  EXPECT_TRUE(d.complete);

  auto parser = make_tool_format(t.format)->make_parser(grammar_tools());
  ParsedOutput out = parse_all(*parser, t.two_calls);
  EXPECT_EQ(out.content, "");
  ASSERT_EQ(out.calls.size(), 2u);
  EXPECT_EQ(out.calls[0].name, "get_weather");
  EXPECT_EQ(nlohmann::json::parse(out.calls[0].arguments),
            nlohmann::json::parse(R"({"city": "Paris", "unit": "celsius"})"));
  EXPECT_EQ(out.calls[1].name, "ping");
  EXPECT_EQ(out.calls[1].arguments, "{}");
}

TEST_P(CallsGrammarTest, RefusesUnknownNamesAndSchemaViolations) {
  const FormatTexts& t = GetParam();
  for (const std::string& bad : {t.bad_name, t.bad_schema}) {
    auto m = matcher_for(t.format, std::nullopt, 1, -1);
    ASSERT_NE(m, nullptr);
    Drive d = drive(*m, bad);
    EXPECT_LT(d.accepted, d.total) << bad;
  }
}

TEST_P(CallsGrammarTest, OnlyAndCallCounts) {
  const FormatTexts& t = GetParam();
  {  // only ping: the get_weather call is refused
    auto m = matcher_for(t.format, "ping", 1, -1);
    ASSERT_NE(m, nullptr);
    Drive d = drive(*m, t.two_calls);
    EXPECT_LT(d.accepted, d.total);
  }
  {  // at most one call: the second is refused
    auto m = matcher_for(t.format, std::nullopt, 1, 1);
    ASSERT_NE(m, nullptr);
    Drive d = drive(*m, t.two_calls);
    EXPECT_LT(d.accepted, d.total);
  }
  {  // at least three calls: two are not complete
    auto m = matcher_for(t.format, std::nullopt, 3, -1);
    ASSERT_NE(m, nullptr);
    Drive d = drive(*m, t.two_calls);
    EXPECT_FALSE(d.complete);
  }
  auto format = make_tool_format(t.format);
  EXPECT_FALSE(format->calls_grammar(grammar_tools(), "nope", 1, 1).ok());
  EXPECT_FALSE(format->calls_grammar(grammar_tools(), std::nullopt, 2, 1).ok());
}

// Random walks over the masks: every finished output parses as calls only, with JSON arguments.
TEST_P(CallsGrammarTest, EverythingTheGrammarAllowsParsesAsCalls) {
  const FormatTexts& t = GetParam();
  std::mt19937 rng(17);
  const auto vocab = qwen3_vocab();
  std::vector<uint32_t> mask((vocab->size() + 31) / 32);
  int finished = 0;
#if defined(__SANITIZE_ADDRESS__)
  const int num_walks = 3;  // mask computation is slow under the sanitizers
#else
  const int num_walks = 12;
#endif
  for (int walk = 0; walk < 12 && (walk < num_walks || finished == 0); ++walk) {
    auto m = matcher_for(t.format, std::nullopt, 1, 2);
    ASSERT_NE(m, nullptr);
    std::string text;
    for (int step = 0; step < 400 && !m->must_finish(); ++step) {
      if (m->can_finish() && step % 3 == 0) break;
      m->fill_mask(mask);
      std::vector<int32_t> allowed;
      for (int32_t id = 0; id < vocab->size(); ++id) {
        if ((mask[id / 32] >> (id % 32) & 1) && !vocab->is_eog(id)) allowed.push_back(id);
      }
      if (allowed.empty()) break;
      // Prefer short tokens so strings and numbers end: pick the shorter of two random ones.
      auto pick = [&] { return allowed[rng() % allowed.size()]; };
      int32_t a = pick(), b = pick();
      int32_t id = vocab->token_bytes(a).size() <= vocab->token_bytes(b).size() ? a : b;
      ASSERT_TRUE(m->accept(id));
      text += vocab->token_bytes(id);
    }
    if (!m->can_finish()) continue;
    ++finished;
    auto parser = make_tool_format(t.format)->make_parser(grammar_tools());
    ParsedOutput out = parse_all(*parser, text);
    EXPECT_EQ(out.content, "") << text;
    EXPECT_GE(out.calls.size(), 1u) << text;
    for (const ToolCall& call : out.calls) {
      EXPECT_NE(find_function(grammar_tools(), call.name), nullptr) << text;
      auto args = nlohmann::json::parse(call.arguments, nullptr, false);
      EXPECT_TRUE(args.is_object()) << text;
    }
  }
  EXPECT_GT(finished, 0);
}

// A function that declares no properties takes any parameters (text_until includes its '>').
TEST(Qwen3CoderGrammar, UndeclaredParameters) {
  auto m = matcher_for("qwen3_coder", "ping", 1, 1);
  ASSERT_NE(m, nullptr);
  Drive d = drive(*m,
                  "<tool_call>\n<function=ping>\n<parameter=host>\nexample.org\n</parameter>\n"
                  "</function>\n</tool_call>");
  EXPECT_EQ(d.accepted, d.total);
  EXPECT_TRUE(d.complete);
}

INSTANTIATE_TEST_SUITE_P(Formats, CallsGrammarTest, ::testing::ValuesIn(format_texts()),
                         [](const auto& info) { return info.param.format; });

}  // namespace
}  // namespace sluice::parsers::testing
