// Llama 3.x JSON tool calls: recorded Llama-3.2-tokenized outputs (<|python_tag|> as its special
// token), the split property on each, and the exact content / calls.
#include <gtest/gtest.h>

#include "parser_test_util.h"

namespace sluice::parsers::testing {
namespace {

std::vector<ToolCase> llama3_cases() {
  return {
      {"bare_json_call",
       "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"San Francisco\", \"unit\": "
       "\"fahrenheit\"}}",
       "",
       {{"get_weather", R"({"city": "San Francisco", "unit": "fahrenheit"})"}}},
      {"python_tag_call",
       "<|python_tag|>{\"name\": \"search\", \"parameters\": {\"query\": \"llama 3.3 release\"}}",
       "",
       {{"search", R"({"query": "llama 3.3 release"})"}}},
      {"semicolon_separated_calls",
       "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}; {\"name\": "
       "\"get_weather\", \"parameters\": {\"city\": \"London\"}}",
       "",
       {{"get_weather", R"({"city": "Paris"})"}, {"get_weather", R"({"city": "London"})"}}},
      {"arguments_key_and_type_key",
       "\n{\"type\": \"function\", \"name\": \"search\", \"arguments\": {\"query\": \"naïve "
       "\\\"café\\\" 東京 🚀\", \"filters\": {\"lang\": [\"en\", \"ja\"], \"n\": 1.5e-3}}}",
       "",
       {{"search",
         R"({"query": "naïve \"café\" 東京 🚀", "filters": {"lang": ["en", "ja"], "n": 1.5e-3}})"}}},
      {"no_call",
       "The weather in Paris is mild; bring {a jacket} just in case.",
       "The weather in Paris is mild; bring {a jacket} just in case.",
       {}},
      {"json_content_is_not_a_call",
       "{\"answer\": 42, \"name\": \"x\"}",
       "{\"answer\": 42, \"name\": \"x\"}",
       {}},
      {"content_then_python_tag",
       "Let me search.<|python_tag|>{\"name\": \"search\", \"parameters\": {\"query\": \"x\"}}",
       "Let me search.",
       {{"search", R"({"query": "x"})"}}},
      {"brace_in_string_args",
       "{\"name\": \"search\", \"parameters\": {\"query\": \"}; {\\\"name\\\": \\\"evil\\\"}\"}}",
       "",
       {{"search", R"({"query": "}; {\"name\": \"evil\"}"})"}}},
      {"unterminated_call",
       "{\"name\": \"search\", \"parameters\": {\"query\": \"trunc",
       "",
       {{"search", R"({"query": "trunc)"}}},
      {"text_after_call",
       "{\"name\": \"search\", \"parameters\": {}}\n\nThat is all.",
       "\n\nThat is all.",
       {{"search", "{}"}}},
  };
}

class Llama3JsonTest : public ::testing::TestWithParam<ToolCase> {};

TEST_P(Llama3JsonTest, EverySplitGivesTheExpectedParse) {
  check_tool_case("llama3_json", "llama3_2", weather_and_search_tools(), GetParam());
}

INSTANTIATE_TEST_SUITE_P(Recorded, Llama3JsonTest, ::testing::ValuesIn(llama3_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(Llama3Json, NeedsThePythonTagDecoded) {
  EXPECT_EQ(make_tool_format("llama3_json")->markers(), std::vector<std::string>{"<|python_tag|>"});
}

}  // namespace
}  // namespace sluice::parsers::testing
