// MiniMax M2 tool calls: turns rendered by the real template (reasoning included) parse back
// token by token and byte by byte, values typed by the schema; hand-written edge cases.
#include <gtest/gtest.h>

#include "template_round_trip.h"

namespace sluice::parsers::testing {
namespace {

const TemplateFrame kMiniMax = {"MiniMax-M2.jinja", "]~b]ai\n", "[e~["};

OJson two_minimax_calls() {
  return OJson::array(
      {template_call("get_weather", R"({"city": "Paris", "unit": "celsius"})"),
       template_call("search", R"({"query": "ünïcode \"quotes\" <b>bold</b>", "max_results": 3,
                                   "safe": false, "filters": {"lang": "fr"}})")});
}

TEST(MiniMaxM2Template, ReasoningContentAndCalls) {
  // The generation prompt ends in "<think>\n": the model starts inside the section.
  expect_template_round_trip_with_reasoning(kMiniMax, "minimax_m2", weather_and_search_tools(),
                                            {{"role", "assistant"},
                                             {"reasoning_content", "Paris, 天气."},
                                             {"content", "Let me look that up."},
                                             {"tool_calls", two_minimax_calls()}},
                                            true, "Paris, 天气.", "Let me look that up.");
}

TEST(MiniMaxM2Template, CallsAlone) {
  expect_template_round_trip(
      kMiniMax, "minimax_m2", weather_and_search_tools(),
      {{"role", "assistant"}, {"content", ""}, {"tool_calls", two_minimax_calls()}}, "");
}

class MiniMaxM2Cases : public ::testing::TestWithParam<ToolCase> {};

TEST_P(MiniMaxM2Cases, Parses) {
  check_tool_case("minimax_m2", "qwen2_5", weather_and_search_tools(), GetParam());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MiniMaxM2Cases,
    ::testing::Values(
        ToolCase{"text_after",
                 "<minimax:tool_call><invoke name=ping></invoke></minimax:tool_call> done",
                 " done",
                 {{"ping", "{}"}}},
        ToolCase{"broken_section_is_content",
                 "x <minimax:tool_call> nope",
                 "x <minimax:tool_call> nope",
                 {}},
        ToolCase{"cut_in_value",
                 "<minimax:tool_call>\n<invoke name=\"search\">\n<parameter name=\"max_results\">1",
                 "",
                 {{"search", "{\"max_results\": 1}"}}}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace sluice::parsers::testing
