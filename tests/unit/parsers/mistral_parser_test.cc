// Mistral [TOOL_CALLS] in both generations. No Mistral tokenizer is in the test data, so the
// streams come from the Qwen3 tokenizer (which splits "[TOOL_CALLS]" into several tokens, a
// harder case than the one special token) plus the byte-level splits.
#include <gtest/gtest.h>

#include "parser_test_util.h"

namespace sluice::parsers::testing {
namespace {

std::vector<ToolCase> mistral_cases() {
  return {
      {"nemo_array_one_call",
       "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}, \"id\": "
       "\"abc123XYZ\"}]",
       "",
       {{"get_weather", R"({"city": "Paris"})"}}},
      {"nemo_array_parallel",
       "[TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}, "
       "{\"name\": \"search\", \"arguments\": {\"query\": \"[ARGS] ]}\", \"max_results\": 3}}]",
       "",
       {{"get_weather", R"({"city": "Paris"})"},
        {"search", R"({"query": "[ARGS] ]}", "max_results": 3})"}}},
      {"v11_single",
       "[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Zürich\", \"unit\": \"celsius\"}",
       "",
       {{"get_weather", R"({"city": "Zürich", "unit": "celsius"})"}}},
      {"v11_parallel_with_call_id",
       "[TOOL_CALLS]get_weather[CALL_ID]a1b2c3d4e[ARGS]{\"city\": \"Oslo\"}[TOOL_CALLS]search"
       "[ARGS]{\"query\": \"fjords \\\"best\\\" 🌊\", \"filters\": {\"nested\": [1, {\"x\": "
       "null}]}}",
       "",
       {{"get_weather", R"({"city": "Oslo"})"},
        {"search", R"({"query": "fjords \"best\" 🌊", "filters": {"nested": [1, {"x": null}]}})"}}},
      {"content_before_call",
       "I will check that.[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Rome\"}",
       "I will check that.",
       {{"get_weather", R"({"city": "Rome"})"}}},
      {"no_call",
       "Brackets like [TOOL] or [ARGS] in text are fine.",
       "Brackets like [TOOL] or [ARGS] in text are fine.",
       {}},
      {"marker_without_call_is_content",
       "[TOOL_CALLS] sorry, no tool fits.",
       "[TOOL_CALLS] sorry, no tool fits.",
       {}},
      {"unterminated_v11",
       "[TOOL_CALLS]search[ARGS]{\"query\": \"abc",
       "",
       {{"search", R"({"query": "abc)"}}},
      {"unterminated_name_is_content", "[TOOL_CALLS]sear", "[TOOL_CALLS]sear", {}},
  };
}

class MistralTest : public ::testing::TestWithParam<ToolCase> {};

TEST_P(MistralTest, EverySplitGivesTheExpectedParse) {
  check_tool_case("mistral", "qwen3", weather_and_search_tools(), GetParam());
}

INSTANTIATE_TEST_SUITE_P(Recorded, MistralTest, ::testing::ValuesIn(mistral_cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace sluice::parsers::testing
