// GLM 4.5 / 4.6 tool calls: turns rendered by the real template (reasoning included) parse back
// token by token and byte by byte, values typed by the schema; hand-written edge cases.
#include <gtest/gtest.h>

#include "template_round_trip.h"

namespace sluice::parsers::testing {
namespace {

const TemplateFrame kGlm = {"GLM-4.6.jinja", "<|assistant|>", ""};

OJson two_glm45_calls() {
  return OJson::array(
      {template_call("get_weather", R"({"city": "Paris", "unit": "celsius"})"),
       template_call("search", R"({"query": "ünïcode \"quotes\" <b>bold</b>", "max_results": 3,
                                   "safe": true, "filters": {"lang": "fr", "n": [1, 2]}})")});
}

TEST(Glm45Template, ReasoningContentAndCalls) {
  expect_template_round_trip_with_reasoning(kGlm, "glm45", weather_and_search_tools(),
                                            {{"role", "assistant"},
                                             {"reasoning_content", "Paris, 天气.\nThen search."},
                                             {"content", "Let me look that up."},
                                             {"tool_calls", two_glm45_calls()}},
                                            false, "Paris, 天气.\nThen search.",
                                            "Let me look that up.");
}

TEST(Glm45Template, CallsAlone) {
  expect_template_round_trip_with_reasoning(
      kGlm, "glm45", weather_and_search_tools(),
      {{"role", "assistant"}, {"content", ""}, {"tool_calls", two_glm45_calls()}}, false, "", "");
}

TEST(Glm45Template, PlainAnswer) {
  expect_template_round_trip_with_reasoning(
      kGlm, "glm45", weather_and_search_tools(),
      {{"role", "assistant"}, {"reasoning_content", "easy"}, {"content", "Sunny <b>21</b> °C."}},
      false, "easy", "Sunny <b>21</b> °C.");
}

class Glm45Cases : public ::testing::TestWithParam<ToolCase> {};

TEST_P(Glm45Cases, Parses) {
  check_tool_case("glm45", "qwen2_5", weather_and_search_tools(), GetParam());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, Glm45Cases,
    ::testing::Values(
        ToolCase{"no_arguments", "<tool_call>ping</tool_call>", "", {{"ping", "{}"}}},
        ToolCase{
            "untyped_and_bad_values",
            "Ok.\n<tool_call>search\n<arg_key>query</arg_key>\n<arg_value>42</arg_value>\n"
            "<arg_key>max_results</arg_key>\n<arg_value>many</arg_value>\n"
            "<arg_key>extra</arg_key>\n<arg_value>{\"a\": 1}</arg_value>\n</tool_call>\nBye.",
            "Ok.\nBye.",
            {{"search",
              "{\"query\": \"42\", \"max_results\": \"many\", \"extra\": \"{\\\"a\\\": 1}\"}"}}},
        ToolCase{"cut_in_value",
                 "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Par",
                 "",
                 {{"get_weather", "{\"city\": \"Par\"}"}}},
        ToolCase{"cut_in_name_is_content", "a <tool_call>get_wea", "a <tool_call>get_wea", {}},
        ToolCase{"empty_name_is_content",
                 "<tool_call>\n{\"name\": 1}</tool_call>",
                 "<tool_call>\n{\"name\": 1}</tool_call>",
                 {}}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace sluice::parsers::testing
