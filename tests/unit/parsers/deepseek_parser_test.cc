// DeepSeek V3 / R1 and V3.1 tool calls: turns rendered by the real templates parse back (token
// by token and byte by byte), the <think> section before them included; hand-written edge cases.
#include <gtest/gtest.h>

#include "template_round_trip.h"

namespace sluice::parsers::testing {
namespace {

const TemplateFrame kV31 = {"deepseek-ai-DeepSeek-V3.1.jinja", "<｜Assistant｜><think></think>",
                            "<｜end▁of▁sentence｜>"};
const TemplateFrame kR1 = {"deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja", "<｜Assistant｜>",
                           "<｜end▁of▁sentence｜>"};

OJson two_deepseek_calls() {
  return OJson::array(
      {template_call("get_weather", R"({"city": "Paris", "unit": "celsius"})"),
       template_call("search", R"({"query": "ünïcode \"quotes\" <｜tags｜>", "max_results": 3,
                                   "safe": true, "filters": {"lang": "fr"}})")});
}

OJson assistant(const OJson& content, const OJson& calls) {
  return {{"role", "assistant"}, {"content", content}, {"tool_calls", calls}};
}

TEST(DeepSeekTemplate, V31CallsWithContent) {
  expect_template_round_trip(kV31, "deepseek_v31", weather_and_search_tools(),
                             assistant("Let me look that up.", two_deepseek_calls()),
                             "Let me look that up.");
}

TEST(DeepSeekTemplate, V31CallsAlone) {
  expect_template_round_trip(kV31, "deepseek_v31", weather_and_search_tools(),
                             assistant("", two_deepseek_calls()), "");
}

TEST(DeepSeekTemplate, R1FencedCalls) {
  std::string turn = render_assistant_turn(kR1, weather_and_search_tools(),
                                           assistant(nullptr, two_deepseek_calls()));
  EXPECT_NE(turn.find("function<｜tool▁sep｜>get_weather\n```json\n"), std::string::npos) << turn;
  expect_template_round_trip(kR1, "deepseek_v3", weather_and_search_tools(),
                             assistant(nullptr, two_deepseek_calls()), "");
}

TEST(DeepSeekTemplate, ReasoningThenCalls) {
  // The generation prompt with thinking on ends inside <think>: the model writes the rest.
  auto tpl = ChatTemplate::parse(read_template_file(kV31.file));
  ASSERT_TRUE(tpl.ok());
  OJson ctx = {{"messages", OJson::array({{{"role", "user"}, {"content", "Weather?"}}})},
               {"bos_token", ""},
               {"add_generation_prompt", true},
               {"thinking", true}};
  auto prompt = tpl->render(ctx);
  ASSERT_TRUE(prompt.ok());
  ASSERT_TRUE(prompt_opens_reasoning(*prompt, ReasoningTags{}));
  std::string turn = render_assistant_turn(kV31, weather_and_search_tools(),
                                           assistant("Checking.", two_deepseek_calls()));
  std::string output = "The user wants Paris. 天气 first.</think>" + turn;
  auto format = make_tool_format("deepseek_v31");
  for (const auto& pieces : {token_pieces("qwen2_5", output), chunkings({output}, 1).back()}) {
    ParsedOutput out = parse_with_reasoning(*format, weather_and_search_tools(), true, pieces);
    EXPECT_EQ(out.reasoning, "The user wants Paris. 天气 first.");
    EXPECT_EQ(out.content, "Checking.");
    expect_same_calls(out.calls, two_deepseek_calls());
  }
}

TEST(DeepSeekTemplate, PlainAnswerIsContent) {
  const std::string text = "It is sunny in Paris: 21 °C.\n\n- no <tags> here";
  ToolCase c{"plain", text, text, {}};
  check_tool_case("deepseek_v31", "qwen2_5", weather_and_search_tools(), c);
}

class DeepSeekCases : public ::testing::TestWithParam<ToolCase> {};

TEST_P(DeepSeekCases, Parses) {
  check_tool_case("deepseek_v3", "qwen2_5", weather_and_search_tools(), GetParam());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DeepSeekCases,
    ::testing::Values(
        ToolCase{"string_arguments",
                 "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>search<｜tool▁sep｜>"
                 "\"{\\\"query\\\": \\\"x\\\"}\"<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
                 "",
                 {{"search", "{\"query\": \"x\"}"}}},
        ToolCase{"no_fence_and_empty_args",
                 "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>ping\n"
                 "{}<｜tool▁call▁end｜><｜tool▁call▁begin｜>ping<｜tool▁sep｜>"
                 "<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
                 "",
                 {{"ping", "{}"}, {"ping", "{}"}}},
        ToolCase{"call_without_section",
                 "Sure. <｜tool▁call▁begin｜>search<｜tool▁sep｜>{\"query\": \"a\"}"
                 "<｜tool▁call▁end｜> Done.",
                 "Sure. Done.",
                 {{"search", "{\"query\": \"a\"}"}}},
        ToolCase{"text_after_section",
                 "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>search<｜tool▁sep｜>{\"query\": "
                 "\"a\"}<｜tool▁call▁end｜><｜tool▁calls▁end｜>\nMore text.",
                 "\nMore text.",
                 {{"search", "{\"query\": \"a\"}"}}},
        ToolCase{"broken_section_is_content",
                 "a <｜tool▁calls▁begin｜>oops, not a call",
                 "a <｜tool▁calls▁begin｜>oops, not a call",
                 {}},
        ToolCase{"cut_before_name_is_content",
                 "x <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>sea",
                 "x <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>sea",
                 {}},
        ToolCase{"cut_in_arguments",
                 "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>search<｜tool▁sep｜>{\"query\": \"par",
                 "",
                 {{"search", "{\"query\": \"par"}}},
        ToolCase{"partial_marker_at_end_is_content", "Hello <｜tool▁ca", "Hello <｜tool▁ca", {}}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace sluice::parsers::testing
