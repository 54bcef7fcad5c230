// Functionary v3.2 output (">>>recipient\n" messages): turns rendered by the real template parse
// back token by token and byte by byte; hand-written edge cases.
#include <gtest/gtest.h>

#include "template_round_trip.h"

namespace sluice::parsers::testing {
namespace {

// The generation prompt ends with ">>>": the model writes from the first recipient on.
const TemplateFrame kFunctionary = {"meetkai-functionary-medium-v3.2.jinja",
                                    "<|start_header_id|>assistant<|end_header_id|>\n\n>>>",
                                    "<|eot_id|>"};

// This template concatenates the arguments: they must be a string.
OJson string_call(const std::string& name, const std::string& arguments) {
  OJson call = template_call(name, arguments);
  call["function"]["arguments"] = OJson::parse(arguments).dump();
  return call;
}

OJson two_functionary_calls() {
  return OJson::array({string_call("get_weather", R"({"city": "Paris", "unit": "celsius"})"),
                       string_call("search", R"({"query": "ünïcode >>> \"quotes\"",
                                                 "max_results": 3, "filters": {"a": [1]}})")});
}

TEST(FunctionaryV3Template, ContentThenCalls) {
  expect_template_round_trip(kFunctionary, "functionary_v3", weather_and_search_tools(),
                             {{"role", "assistant"},
                              {"content", "Let me look that up."},
                              {"tool_calls", two_functionary_calls()}},
                             "Let me look that up.");
}

TEST(FunctionaryV3Template, CallsAlone) {
  expect_template_round_trip(
      kFunctionary, "functionary_v3", weather_and_search_tools(),
      {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", two_functionary_calls()}}, "");
}

TEST(FunctionaryV3Template, PlainAnswer) {
  expect_template_round_trip(kFunctionary, "functionary_v3", weather_and_search_tools(),
                             {{"role", "assistant"}, {"content", "Sunny, 21 °C.\nBye."}},
                             "Sunny, 21 °C.\nBye.");
}

class FunctionaryV3Cases : public ::testing::TestWithParam<ToolCase> {};

TEST_P(FunctionaryV3Cases, Parses) {
  check_tool_case("functionary_v3", "qwen2_5", weather_and_search_tools(), GetParam());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, FunctionaryV3Cases,
    ::testing::Values(
        ToolCase{"no_recipient_is_content", "Hello there.\nBye", "Hello there.\nBye", {}},
        ToolCase{"python_code_is_content", "python\nprint(1)", "python\nprint(1)", {}},
        ToolCase{"call_then_text",
                 "search\n{\"query\": \"a\"}\n>>>all\nDone.",
                 "\nDone.",
                 {{"search", "{\"query\": \"a\"}"}}},
        ToolCase{
            "cut_in_arguments", "search\n{\"query\": \"a", "", {{"search", "{\"query\": \"a"}}},
        ToolCase{"cut_in_recipient", "all\nok>>>sea", "ok>>>sea", {}}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace sluice::parsers::testing
