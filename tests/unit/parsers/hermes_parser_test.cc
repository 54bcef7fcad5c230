// Hermes / Qwen <tool_call> parsing: recorded Qwen3-tokenized outputs, the split property on each,
// and the exact content / calls they parse to.
#include <gtest/gtest.h>

#include "parser_test_util.h"

namespace sluice::parsers::testing {
namespace {

std::vector<ToolCase> hermes_cases() {
  return {
      {"content_and_one_call",
       "I'll check the weather in Paris for you.\n<tool_call>\n{\"name\": \"get_weather\", "
       "\"arguments\": {\"city\": \"Paris\", \"unit\": \"celsius\"}}\n</tool_call>",
       "I'll check the weather in Paris for you.",
       {{"get_weather", R"({"city": "Paris", "unit": "celsius"})"}}},
      {"parallel_calls",
       "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Tokyo\"}}\n"
       "</tool_call>\n<tool_call>\n{\"name\": \"search\", \"arguments\": {\"query\": \"Tokyo "
       "events this weekend\", \"max_results\": 5}}\n</tool_call>",
       "",
       {{"get_weather", R"({"city": "Tokyo"})"},
        {"search", R"({"query": "Tokyo events this weekend", "max_results": 5})"}}},
      {"nested_escapes_unicode",
       "<tool_call>\n{\"name\": \"search\", \"arguments\": {\"query\": \"caf\\u00e9 \\\"naïve\\\" "
       "名前 😀\\n\\tend\", \"filters\": {\"paths\": [\"C:\\\\Users\\\\x\", \"/tmp/a b\"], "
       "\"range\": [1, -2.5e3, true, null, {\"deep\": {}}]}}}\n</tool_call>",
       "",
       {{"search",
         "{\"query\": \"caf\\u00e9 \\\"naïve\\\" 名前 😀\\n\\tend\", \"filters\": {\"paths\": "
         "[\"C:\\\\Users\\\\x\", \"/tmp/a b\"], \"range\": [1, -2.5e3, true, null, {\"deep\": "
         "{}}]}}"}}},
      {"no_call",
       "Sure! In HTML, write <b>bold</b>; a < b is a comparison, and <tool is not a tag.\n",
       "Sure! In HTML, write <b>bold</b>; a < b is a comparison, and <tool is not a tag.\n",
       {}},
      {"close_tag_inside_json_string",
       "<tool_call>\n{\"name\": \"search\", \"arguments\": {\"query\": \"what does "
       "</tool_call> mean? {not json} <tool_call>\"}}\n</tool_call>",
       "",
       {{"search", R"({"query": "what does </tool_call> mean? {not json} <tool_call>"})"}}},
      {"text_after_call",
       "Let me look.\n\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
       "\"Oslo\"}}\n</tool_call>\n\nI asked for Oslo.",
       "Let me look.\n\nI asked for Oslo.",
       {{"get_weather", R"({"city": "Oslo"})"}}},
      {"arguments_before_name",
       "<tool_call>\n{\"arguments\": {\"city\": \"Rome\"}, \"name\": \"get_weather\"}\n"
       "</tool_call>",
       "",
       {{"get_weather", R"({"city": "Rome"})"}}},
      {"unknown_tool_still_a_call",
       "<tool_call>\n{\"name\": \"launch_rocket\", \"arguments\": {}}\n</tool_call>",
       "",
       {{"launch_rocket", "{}"}}},
      {"stringified_and_missing_arguments",
       "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Nice\\\"}\"}"
       "\n</tool_call>\n<tool_call>\n{\"name\": \"search\"}\n</tool_call>",
       "",
       {{"get_weather", R"({"city": "Nice"})"}, {"search", "{}"}}},
      {"malformed_block_is_content",
       "Trying: <tool_call>\nget_weather(city=\"Paris\")\n</tool_call>",
       "Trying: <tool_call>\nget_weather(city=\"Paris\")\n</tool_call>",
       {}},
      {"plain_json_block_is_content",
       "<tool_call>{\"answer\": 42}</tool_call>",
       "<tool_call>{\"answer\": 42}</tool_call>",
       {}},
      {"unterminated_call_ends_at_finish",
       "<tool_call>\n{\"name\": \"search\", \"arguments\": {\"query\": \"long que",
       "",
       {{"search", R"({"query": "long que)"}}},
      {"unterminated_before_name_is_content",
       "Calling <tool_call>\n{\"name\": \"sea",
       "Calling <tool_call>\n{\"name\": \"sea",
       {}},
      {"partial_tag_at_end_is_content", "Almost a tag: <tool_c", "Almost a tag: <tool_c", {}},
      {"missing_close_tag_between_calls",
       "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Lima\"}}\n"
       "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Quito\"}}\n"
       "</tool_call>",
       "",
       {{"get_weather", R"({"city": "Lima"})"}, {"get_weather", R"({"city": "Quito"})"}}},
  };
}

class HermesTest : public ::testing::TestWithParam<ToolCase> {};

TEST_P(HermesTest, EverySplitGivesTheExpectedParse) {
  check_tool_case("hermes", "qwen3", weather_and_search_tools(), GetParam());
}

INSTANTIATE_TEST_SUITE_P(Recorded, HermesTest, ::testing::ValuesIn(hermes_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(HermesStreaming, EventsArriveAsSoonAsDecided) {
  auto parser = make_tool_format("hermes")->make_parser(weather_and_search_tools());
  std::vector<ParseEvent> events;
  parser->feed("Hi <tool_c", events);
  ASSERT_EQ(merge(events).size(), 1u);  // "Hi" out, " <tool_c" held
  EXPECT_EQ(events[0].text, "Hi");
  events.clear();
  parser->feed("all>\n{\"name\": \"search\", \"arguments\": {\"q", events);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, ParseEvent::Kind::kToolCallBegin);
  EXPECT_EQ(events[0].name, "search");
  EXPECT_EQ(events[1].text, "{\"q");
  events.clear();
  parser->feed("\": 1}}\n</tool_call>", events);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].kind, ParseEvent::Kind::kToolCallEnd);
}

}  // namespace
}  // namespace sluice::parsers::testing
