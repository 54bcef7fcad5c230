// Reasoning (<think>) splitting: recorded Qwen3-tokenized outputs, both start modes, partial tags,
// the split property, tag detection on every template, and reasoning feeding the tool parser.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "parser_test_util.h"

namespace sluice::parsers::testing {
namespace {

struct Case {
  std::string name;
  bool starts_in_reasoning;
  std::string text;
  std::string reasoning;
  std::string content;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

std::vector<Case> reasoning_cases() {
  return {
      {"qwen3_think_then_answer", false,
       "<think>\nThe user asks for 2+2. That is 4.\n</think>\n\nThe answer is **4**.",
       "The user asks for 2+2. That is 4.", "The answer is **4**."},
      {"prompt_opened_tag", true,
       "Okay, let me think about «naïve» sets 😀.\n</think>\n\nHere it is.",
       "Okay, let me think about «naïve» sets 😀.", "Here it is."},
      {"prompt_opened_tag_written_again", true, "<think>\nHmm.\n</think>\nDone.", "Hmm.", "Done."},
      {"no_reasoning_at_all", false, "Just an answer, with a < sign and </thin text.", "",
       "Just an answer, with a < sign and </thin text."},
      {"empty_thinking_block", false, "<think>\n\n</think>\n\nDirect answer.", "",
       "Direct answer."},
      {"unterminated_reasoning", true, "Still thinking about </thi", "Still thinking about </thi",
       ""},
      {"text_before_open_tag_is_content", false, "Prefix <think>inner</think>after", "inner",
       "Prefix after"},
      {"second_block_is_content", false, "<think>a</think>b<think>c</think>", "a",
       "b<think>c</think>"},
      {"partial_open_tag_at_end", false, "Ends with <thi", "", "Ends with <thi"},
      {"newline_before_open_tag_glm", false, "\n<think>why</think>\nwhat", "why", "what"},
      {"leading_space_then_text_is_content", false, "\n \n<b>x</b>", "", "\n \n<b>x</b>"},
      {"only_whitespace_is_content", false, " \n", "", " \n"},
  };
}

class ReasoningTest : public ::testing::TestWithParam<Case> {};

TEST_P(ReasoningTest, EverySplitGivesTheExpectedParse) {
  const Case& c = GetParam();
  ReasoningResult r =
      expect_reasoning_split_invariant({}, c.starts_in_reasoning, token_pieces("qwen3", c.text));
  EXPECT_EQ(r.reasoning, c.reasoning);
  EXPECT_EQ(r.content, c.content);
}

INSTANTIATE_TEST_SUITE_P(Recorded, ReasoningTest, ::testing::ValuesIn(reasoning_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(ReasoningStreaming, HoldsOnlyWhatMayBeATag) {
  ReasoningParser p("<think>", "</think>", true);
  EXPECT_TRUE(p.in_reasoning());
  ReasoningDelta d = p.feed("step one </th");
  EXPECT_EQ(d.reasoning, "step one");  // the space waits: it may end the reasoning
  d = p.feed("ink>\n\nAnswer");
  EXPECT_EQ(d.reasoning, "");
  EXPECT_EQ(d.content, "Answer");
  EXPECT_FALSE(p.in_reasoning());
}

TEST(ReasoningStreaming, CustomTags) {
  ReasoningResult r =
      expect_reasoning_split_invariant({"<reasoning>", "</reasoning>"}, false,
                                       token_pieces("qwen3", "<reasoning>why</reasoning>what"));
  EXPECT_EQ(r.reasoning, "why");
  EXPECT_EQ(r.content, "what");
}

std::string read_template(const std::string& name) {
  std::ifstream in(testdata_dir() + "/templates/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ReasoningDetection, EveryTemplate) {
  // The open tag detected in each template; "": none.
  const std::vector<std::pair<std::string, std::string>> families = {
      {"HuggingFaceTB-SmolLM3-3B.jinja", "<think>"},
      {"Mistral-Small-3.2-24B-Instruct-2506.jinja", ""},
      {"NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja", ""},
      {"Qwen-QwQ-32B.jinja", "<think>"},
      {"Qwen-Qwen2.5-7B-Instruct.jinja", ""},
      {"Qwen-Qwen3-0.6B.jinja", "<think>"},
      {"Qwen3-Coder.jinja", ""},
      {"Qwen3.5-4B.jinja", "<think>"},
      {"deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja", "<think>"},
      {"google-gemma-2-2b-it.jinja", ""},
      {"ibm-granite-granite-3.3-2B-Instruct.jinja", "<think>"},
      {"meta-llama-Llama-3.1-8B-Instruct.jinja", ""},
      {"meta-llama-Llama-3.2-3B-Instruct.jinja", ""},
      {"meta-llama-Llama-3.3-70B-Instruct.jinja", ""},
      {"microsoft-Phi-3.5-mini-instruct.jinja", ""},
      {"mistralai-Mistral-Nemo-Instruct-2407.jinja", ""},
      {"openai-gpt-oss-120b.jinja", ""},
      {"GLM-4.6.jinja", "<think>"},
      {"Kimi-K2-Instruct.jinja", ""},
      {"MiniMax-M2.jinja", "<think>"},
      {"deepseek-ai-DeepSeek-V3.1.jinja", "<think>"},
      {"google-gemma-4-31B-it.jinja", "<|channel>thought"},
      {"ibm-granite-granite-4.0.jinja", ""},
      {"meetkai-functionary-medium-v3.2.jinja", ""},
      {"mistralai-Ministral-3-14B-Reasoning-2512.jinja", "[THINK]"}};
  const std::map<std::string, std::string> expected(families.begin(), families.end());
  size_t seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(testdata_dir() + "/templates")) {
    std::string name = entry.path().filename().string();
    auto it = expected.find(name);
    ASSERT_NE(it, expected.end()) << "a new template: add its expectation: " << name;
    std::optional<ReasoningTags> tags = detect_reasoning_tags(read_template(name));
    EXPECT_EQ(tags ? tags->open : "", it->second) << name;
    ++seen;
  }
  EXPECT_EQ(seen, expected.size());
}

TEST(ReasoningDetection, PromptOpensReasoning) {
  ReasoningTags tags;
  EXPECT_TRUE(prompt_opens_reasoning("<|im_start|>assistant\n<think>\n", tags));
  EXPECT_TRUE(prompt_opens_reasoning("<｜Assistant｜><think>\n", tags));
  EXPECT_FALSE(prompt_opens_reasoning("<|im_start|>assistant\n<think>\n\n</think>\n\n", tags));
  EXPECT_FALSE(prompt_opens_reasoning("<|im_start|>assistant\n", tags));
}

// The API's pipeline: reasoning first, then the tool parser on the content it lets through.
TEST(ReasoningThenTools, ToolCallsInReasoningAreNotCalls) {
  std::string text =
      "<think>\nI could use <tool_call> here.\n</think>\n\nChecking.\n<tool_call>\n{\"name\": "
      "\"get_weather\", \"arguments\": {\"city\": \"Bern\"}}\n</tool_call>";
  auto format = make_tool_format("hermes");
  for (const auto& chunks : chunkings(token_pieces("qwen3", text), 7)) {
    ReasoningParser reasoning("<think>", "</think>", false);
    auto tools = format->make_parser(weather_and_search_tools());
    std::string thought;
    std::vector<ParseEvent> events;
    for (const auto& c : chunks) {
      ReasoningDelta d = reasoning.feed(c);
      thought += d.reasoning;
      tools->feed(d.content, events);
    }
    ReasoningDelta d = reasoning.finish();
    thought += d.reasoning;
    tools->feed(d.content, events);
    tools->finish(events);
    std::vector<ParseEvent> m = merge(events);
    ASSERT_EQ(m.size(), 4u) << describe(m);
    EXPECT_EQ(thought, "I could use <tool_call> here.");
    EXPECT_EQ(m[0].text, "Checking.");
    EXPECT_EQ(m[1].name, "get_weather");
    EXPECT_EQ(m[2].text, R"({"city": "Bern"})");
  }
}

}  // namespace
}  // namespace sluice::parsers::testing
