// Choosing the tool-call format from every chat template in the test data, and by name.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "parser_test_util.h"

namespace sluice::parsers::testing {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ToolFormatDetection, EveryTemplate) {
  const std::map<std::string, std::string> expected = {
      {"HuggingFaceTB-SmolLM3-3B.jinja", "json"},  // this copy renders no tool syntax
      {"Mistral-Small-3.2-24B-Instruct-2506.jinja", "mistral"},
      {"NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja", "hermes"},
      {"Qwen-QwQ-32B.jinja", "hermes"},
      {"Qwen-Qwen2.5-7B-Instruct.jinja", "hermes"},
      {"Qwen-Qwen3-0.6B.jinja", "hermes"},
      {"Qwen3-Coder.jinja", "qwen3_coder"},
      {"Qwen3.5-4B.jinja", "qwen3_coder"},
      {"deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja", "deepseek_v3"},
      {"google-gemma-2-2b-it.jinja", "json"},
      {"ibm-granite-granite-3.3-2B-Instruct.jinja", "granite"},
      {"meta-llama-Llama-3.1-8B-Instruct.jinja", "llama3_json"},
      {"meta-llama-Llama-3.2-3B-Instruct.jinja", "llama3_json"},
      {"meta-llama-Llama-3.3-70B-Instruct.jinja", "llama3_json"},
      {"microsoft-Phi-3.5-mini-instruct.jinja", "json"},
      {"mistralai-Mistral-Nemo-Instruct-2407.jinja", "mistral"},
      {"openai-gpt-oss-120b.jinja", "harmony"},
      {"GLM-4.6.jinja", "glm45"},
      {"Kimi-K2-Instruct.jinja", "kimi_k2"},
      {"MiniMax-M2.jinja", "minimax_m2"},
      {"deepseek-ai-DeepSeek-V3.1.jinja", "deepseek_v31"},
      {"google-gemma-4-31B-it.jinja", "gemma4"},
      {"ibm-granite-granite-4.0.jinja", "hermes"},
      {"meetkai-functionary-medium-v3.2.jinja", "functionary_v3"},
      {"mistralai-Ministral-3-14B-Reasoning-2512.jinja", "mistral"},
  };
  size_t seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(testdata_dir() + "/templates")) {
    std::string name = entry.path().filename().string();
    auto it = expected.find(name);
    ASSERT_NE(it, expected.end()) << "a new template: add its expectation: " << name;
    EXPECT_EQ(detect_tool_format(read_file(entry.path().string()), ""), it->second) << name;
    ++seen;
  }
  EXPECT_EQ(seen, expected.size());
}

TEST(ToolFormatDetection, ArchitectureDecidesForTemplatesWithoutToolSyntax) {
  EXPECT_EQ(detect_tool_format("{{ messages }}", "qwen3"), "hermes");
  EXPECT_EQ(detect_tool_format("{{ messages }}", "llama"), "json");
  EXPECT_EQ(detect_tool_format("<tool_call>", "llama"), "hermes");  // the template wins
}

TEST(ToolFormatByName, EveryNameRoundTrips) {
  for (std::string name : {"hermes", "qwen3_coder", "llama3_json", "mistral", "json", "harmony",
                           "deepseek_v3", "deepseek_v31", "kimi_k2", "glm45", "minimax_m2",
                           "granite", "functionary_v3", "gemma4", "pythonic", "llama4_pythonic"}) {
    auto format = make_tool_format(name);
    ASSERT_NE(format, nullptr) << name;
    EXPECT_EQ(format->name(), name);
  }
  EXPECT_EQ(make_tool_format("llama4_json"), nullptr);
}

}  // namespace
}  // namespace sluice::parsers::testing
