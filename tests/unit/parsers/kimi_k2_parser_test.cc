// Kimi K2 tool calls: turns rendered by the real template parse back (token by token and byte by
// byte); hand-written edge cases.
#include <gtest/gtest.h>

#include "template_round_trip.h"

namespace sluice::parsers::testing {
namespace {

// The template queues call ids with list.append, which the sandbox refuses (as transformers'
// does): the queue only names tool results, so the test drops it.
const TemplateFrame kKimi = {
    "Kimi-K2-Instruct.jinja",
    "<|im_assistant|>assistant<|im_middle|>",
    "<|im_end|>",
    {{"{%- set _ = tool_response_queue.ids.append(formatted_id) -%}", ""}}};

OJson two_kimi_calls() {
  return OJson::array(
      {template_call("get_weather", R"({"city": "Paris", "unit": "celsius"})"),
       template_call("search", R"({"query": "ünïcode \"quotes\" <|tags|>", "max_results": 3,
                                   "safe": true, "filters": {"lang": "fr"}})")});
}

TEST(KimiK2Template, CallsWithContent) {
  expect_template_round_trip(kKimi, "kimi_k2", weather_and_search_tools(),
                             {{"role", "assistant"},
                              {"content", "Let me look that up."},
                              {"tool_calls", two_kimi_calls()}},
                             "Let me look that up.");
}

TEST(KimiK2Template, CallsAlone) {
  expect_template_round_trip(
      kKimi, "kimi_k2", weather_and_search_tools(),
      {{"role", "assistant"}, {"content", ""}, {"tool_calls", two_kimi_calls()}}, "");
}

TEST(KimiK2Template, StringArgumentsAsRendered) {
  // The template writes string arguments as they are (no JSON quoting).
  OJson call = template_call("search", R"({"query": "x"})");
  call["function"]["arguments"] = R"({"query": "x"})";
  expect_template_round_trip(
      kKimi, "kimi_k2", weather_and_search_tools(),
      {{"role", "assistant"}, {"content", "ok"}, {"tool_calls", OJson::array({call})}}, "ok");
}

class KimiK2Cases : public ::testing::TestWithParam<ToolCase> {};

TEST_P(KimiK2Cases, Parses) {
  check_tool_case("kimi_k2", "qwen2_5", weather_and_search_tools(), GetParam());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, KimiK2Cases,
    ::testing::Values(
        ToolCase{"plain",
                 "Sunny, 21 °C. <|im_end is not a marker",
                 "Sunny, 21 °C. <|im_end is not a marker",
                 {}},
        ToolCase{"bare_name_and_space",
                 "<|tool_calls_section_begin|> <|tool_call_begin|> get_weather "
                 "<|tool_call_argument_begin|> {\"city\": \"Oslo\"} <|tool_call_end|> "
                 "<|tool_calls_section_end|>",
                 "",
                 {{"get_weather", "{\"city\": \"Oslo\"}"}}},
        ToolCase{"text_after",
                 "<|tool_calls_section_begin|><|tool_call_begin|>functions.search:7"
                 "<|tool_call_argument_begin|>{}<|tool_call_end|><|tool_calls_section_end|> bye",
                 " bye",
                 {{"search", "{}"}}},
        ToolCase{"broken_section_is_content",
                 "<|tool_calls_section_begin|>nope",
                 "<|tool_calls_section_begin|>nope",
                 {}},
        ToolCase{"cut_in_header_is_content",
                 "<|tool_calls_section_begin|><|tool_call_begin|>functions.sea",
                 "<|tool_calls_section_begin|><|tool_call_begin|>functions.sea",
                 {}},
        ToolCase{"cut_in_arguments",
                 "<|tool_calls_section_begin|><|tool_call_begin|>functions.search:0"
                 "<|tool_call_argument_begin|>{\"query\": ",
                 "",
                 {{"search", "{\"query\": "}}}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace sluice::parsers::testing
