// Reasoning markers per family, from the real templates: the tags detected in each template,
// a turn with reasoning rendered by it, parsed back piece by piece (tokens and bytes) with
// those tags; and prompts whose generation prompt opens (or closes) the section.
#include <gtest/gtest.h>

#include "parsers/text_scan.h"
#include "template_round_trip.h"

namespace sluice::parsers::testing {
namespace {

OJson weather_call() {
  return OJson::array({template_call("get_weather", R"({"city": "Paris", "unit": "celsius"})")});
}

TEST(ReasoningTemplate, Qwen3ThinkTags) {
  expect_template_round_trip_with_reasoning(
      {"Qwen-Qwen3-0.6B.jinja", "<|im_start|>assistant\n", "<|im_end|>"}, "hermes",
      weather_and_search_tools(),
      {{"role", "assistant"},
       {"reasoning_content", "2+2, «naïve» 😀.\nSo 4."},
       {"content", "It is **4**."}},
      false, "2+2, «naïve» 😀.\nSo 4.", "It is **4**.");
}

TEST(ReasoningTemplate, MinistralThinkBlocksThenCalls) {
  OJson content = OJson::array({{{"type", "thinking"}, {"thinking", "Paris weather.\nCall it."}},
                                {{"type", "text"}, {"text", "Let me look that up."}}});
  expect_template_round_trip_with_reasoning(
      {"mistralai-Ministral-3-14B-Reasoning-2512.jinja", "", ""}, "mistral",
      weather_and_search_tools(),
      {{"role", "assistant"}, {"content", content}, {"tool_calls", weather_call()}}, false,
      "Paris weather.\nCall it.", "Let me look that up.");
}

TEST(ReasoningTemplate, Gemma4ThoughtChannel) {
  expect_template_round_trip_with_reasoning(
      {"google-gemma-4-31B-it.jinja", "<|turn>model\n", "<|tool_response>"}, "gemma4",
      weather_and_search_tools(),
      {{"role", "assistant"},
       {"reasoning_content", "The user wants Paris.\n\nCall get_weather."},
       {"tool_calls", weather_call()}},
      false, "The user wants Paris.\n\nCall get_weather.", "");
}

std::string generation_prompt(const std::string& file, bool thinking) {
  auto tpl = ChatTemplate::parse(read_template_file(file));
  EXPECT_TRUE(tpl.ok());
  if (!tpl.ok()) return "";
  OJson ctx = {{"messages", OJson::array({{{"role", "user"}, {"content", "Weather?"}}})},
               {"bos_token", ""},
               {"add_generation_prompt", true},
               {"enable_thinking", thinking}};
  auto prompt = tpl->render(ctx);
  EXPECT_TRUE(prompt.ok()) << (prompt.ok() ? "" : prompt.error());
  return prompt.ok() ? *prompt : "";
}

std::string rtrimmed(std::string s) {
  while (!s.empty() && is_json_space(s.back())) s.pop_back();
  return s;
}

// DeepSeek R1 distills open <think> in the prompt: the model starts inside the section.
TEST(ReasoningTemplate, R1PromptOpensTheSection) {
  const std::string file = "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja";
  std::optional<ReasoningTags> tags = detect_reasoning_tags(read_template_file(file));
  ASSERT_TRUE(tags);
  ASSERT_TRUE(prompt_opens_reasoning(generation_prompt(file, true), *tags));
  std::string output = "Paris in «June».\n</think>\n\nSunny.";
  std::vector<std::string> bytes;
  for (char c : output) bytes.emplace_back(1, c);
  for (const auto& pieces : {token_pieces("qwen2_5", output), bytes}) {
    ParsedOutput out = parse_with_reasoning(*make_tool_format("hermes"), {}, true, pieces, *tags);
    EXPECT_EQ(out.reasoning, "Paris in «June».");
    EXPECT_EQ(out.content, "Sunny.");
  }
}

// Gemma 4 closes an empty thought channel in the prompt when thinking is off; with it on the
// prompt leaves the channel to the model.
TEST(ReasoningTemplate, Gemma4PromptClosesTheChannelWhenThinkingIsOff) {
  const std::string file = "google-gemma-4-31B-it.jinja";
  std::optional<ReasoningTags> tags = detect_reasoning_tags(read_template_file(file));
  ASSERT_TRUE(tags);
  EXPECT_EQ(tags->open, "<|channel>thought");
  EXPECT_EQ(tags->close, "<channel|>");
  EXPECT_TRUE(rtrimmed(generation_prompt(file, false)).ends_with(tags->close));
  std::string on = generation_prompt(file, true);
  EXPECT_FALSE(rtrimmed(on).ends_with(tags->close));
  EXPECT_FALSE(prompt_opens_reasoning(on, *tags));
}

// Granite 3.3 (its `thinking` switch on) asks for <think></think> then <response></response>:
// the answer's markers are dropped from the content.
TEST(ReasoningTemplate, Granite33ResponseMarkers) {
  const std::string file = "ibm-granite-granite-3.3-2B-Instruct.jinja";
  std::optional<ReasoningTags> tags = detect_reasoning_tags(read_template_file(file));
  ASSERT_TRUE(tags);
  EXPECT_EQ(tags->open, "<think>");
  EXPECT_EQ(tags->answer_open, "<response>");
  EXPECT_EQ(tags->answer_close, "</response>");
  auto tpl = ChatTemplate::parse(read_template_file(file));
  ASSERT_TRUE(tpl.ok());
  OJson ctx = {{"messages", OJson::array({{{"role", "user"}, {"content", "2+2?"}}})},
               {"add_generation_prompt", true},
               {"thinking", true}};
  auto prompt = tpl->render(ctx);
  ASSERT_TRUE(prompt.ok()) << prompt.error();
  EXPECT_NE(prompt->find("<think></think>"), std::string::npos);
  EXPECT_FALSE(prompt_opens_reasoning(*prompt, *tags));
  const std::string output =
      "<think>Two and two, «naïve».</think>\n<response>It is **4**.</response>";
  std::vector<std::string> bytes;
  for (char c : output) bytes.emplace_back(1, c);
  for (const auto& pieces : {token_pieces("qwen2_5", output), bytes}) {
    ParsedOutput out = parse_with_reasoning(*make_tool_format("granite"), {}, false, pieces, *tags);
    EXPECT_EQ(out.reasoning, "Two and two, «naïve».");
    EXPECT_EQ(out.content, "It is **4**.");
  }
  // Without a reasoning section the answer is left as written.
  ParsedOutput plain = parse_with_reasoning(*make_tool_format("granite"), {}, false,
                                            {"<response>x</response>"}, *tags);
  EXPECT_EQ(plain.content, "<response>x</response>");
}

TEST(ReasoningTemplate, PartialMarkersAreHeld) {
  ReasoningParser p(ReasoningTags{"[THINK]", "[/THINK]"}, false);
  ReasoningDelta d = p.feed("[THI");
  EXPECT_EQ(d.content, "");
  d = p.feed("NK]why[/TH");
  EXPECT_EQ(d.reasoning, "why");
  d = p.feed("INK]what");
  EXPECT_EQ(d.content, "what");
  ReasoningParser g(ReasoningTags{"<|channel>thought", "<channel|>"}, false);
  d = g.feed("<|channel>tho");
  EXPECT_EQ(d.content + d.reasoning, "");
  d = g.feed("ught\nhmm\n<chan");
  EXPECT_EQ(d.reasoning, "hmm");
  d = g.feed("nel|>Answer");
  EXPECT_EQ(d.content, "Answer");
}

}  // namespace
}  // namespace sluice::parsers::testing
