// Granite 3.x tool calls. The 3.3 template renders no assistant tool calls (only its system
// prompt names the form), so these cases follow that documented text:
// "respond only with <|tool_call|> followed by a JSON list of tools used".
#include <gtest/gtest.h>

#include "template_round_trip.h"

namespace sluice::parsers::testing {
namespace {

TEST(GraniteTemplate, DocumentsTheForm) {
  std::string text = read_template_file("ibm-granite-granite-3.3-2B-Instruct.jinja");
  EXPECT_NE(text.find("respond only with <|tool_call|> followed by a JSON list"),
            std::string::npos);
}

class GraniteCases : public ::testing::TestWithParam<ToolCase> {};

TEST_P(GraniteCases, Parses) {
  check_tool_case("granite", "qwen2_5", weather_and_search_tools(), GetParam());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, GraniteCases,
    ::testing::Values(
        ToolCase{"two_calls",
                 "<|tool_call|>[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}, "
                 "{\"name\": \"search\", \"arguments\": {\"query\": \"ünï\", \"max_results\": 3}}]",
                 "",
                 {{"get_weather", "{\"city\": \"Paris\"}"},
                  {"search", "{\"query\": \"ünï\", \"max_results\": 3}"}}},
        ToolCase{"text_then_single_object",
                 "Sure.\n<|tool_call|>{\"name\": \"search\", \"arguments\": {\"query\": \"a\"}}",
                 "Sure.",
                 {{"search", "{\"query\": \"a\"}"}}},
        ToolCase{"plain", "Sunny, 21 °C. <|tool", "Sunny, 21 °C. <|tool", {}},
        ToolCase{"not_calls_is_content",
                 "<|tool_call|>[{\"answer\": 1}]",
                 "<|tool_call|>[{\"answer\": 1}]",
                 {}},
        ToolCase{"cut_in_arguments",
                 "<|tool_call|>[{\"name\": \"search\", \"arguments\": {\"query\": \"a",
                 "",
                 {{"search", "{\"query\": \"a"}}}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace sluice::parsers::testing
