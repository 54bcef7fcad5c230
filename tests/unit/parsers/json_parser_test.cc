// The generic JSON tool-call format (whole output is a call object or an array of them,
// optionally fenced): recorded Qwen3-tokenized outputs and the split property.
#include <gtest/gtest.h>

#include "parser_test_util.h"

namespace sluice::parsers::testing {
namespace {

std::vector<ToolCase> json_cases() {
  return {
      {"single_object",
       "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Lyon\"}}",
       "",
       {{"get_weather", R"({"city": "Lyon"})"}}},
      {"array_of_calls",
       "[\n  {\"name\": \"get_weather\", \"arguments\": {\"city\": \"Lyon\"}},\n  {\"name\": "
       "\"search\", \"arguments\": {\"query\": \"Lyon \\u00e9v\\u00e9nements 🎉\", \"filters\": "
       "{\"a\": [[], {}]}}}\n]",
       "",
       {{"get_weather", R"({"city": "Lyon"})"},
        {"search", R"({"query": "Lyon \u00e9v\u00e9nements 🎉", "filters": {"a": [[], {}]}})"}}},
      {"fenced",
       "```json\n{\"name\": \"search\", \"parameters\": {\"query\": \"```\"}}\n```",
       "",
       {{"search", R"({"query": "```"})"}}},
      {"plain_text", "No tools needed: the answer is 7.", "No tools needed: the answer is 7.", {}},
      {"json_that_is_not_a_call", "{\"result\": [1, 2, 3]}", "{\"result\": [1, 2, 3]}", {}},
      {"array_that_is_not_calls", "[1, 2, 3]", "[1, 2, 3]", {}},
      {"empty_array", "[]", "[]", {}},
      {"fenced_code_is_content", "```python\nprint(1)\n```", "```python\nprint(1)\n```", {}},
      {"text_after_calls",
       "[{\"name\": \"search\", \"arguments\": {}}] and more text",
       " and more text",
       {{"search", "{}"}}},
      {"call_later_in_text_is_content",
       "Here: {\"name\": \"search\", \"arguments\": {}}",
       "Here: {\"name\": \"search\", \"arguments\": {}}",
       {}},
      {"unterminated_array",
       "[{\"name\": \"search\", \"arguments\": {\"query\": \"x\"}}, {\"name\": \"get_we",
       "{\"name\": \"get_we",  // a call cut before its name is complete is content
       {{"search", R"({"query": "x"})"}}},
  };
}

class JsonFormatTest : public ::testing::TestWithParam<ToolCase> {};

TEST_P(JsonFormatTest, EverySplitGivesTheExpectedParse) {
  check_tool_case("json", "qwen3", weather_and_search_tools(), GetParam());
}

INSTANTIATE_TEST_SUITE_P(Recorded, JsonFormatTest, ::testing::ValuesIn(json_cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace sluice::parsers::testing
