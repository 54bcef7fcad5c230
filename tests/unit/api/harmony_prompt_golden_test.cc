// Harmony prompts against openai-harmony's renderings (tests/reference/harmony/goldens, written
// by generate_goldens.py): every conversation renders byte for byte, and the request errors.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "api/api_error.h"
#include "api/chat_prompt.h"
#include "api/json_fields.h"
#include "jinja/template.h"

namespace sluice::api {
namespace {

std::vector<Json> goldens() {
  std::ifstream f(std::string(SLUICE_SOURCE_DIR) +
                  "/tests/reference/harmony/goldens/harmony.jsonl");
  std::vector<Json> out;
  for (std::string line; std::getline(f, line);)
    if (!line.empty()) out.push_back(Json::parse(line));
  return out;
}

ChatPromptInput input_of(const Json& g) {
  ChatPromptInput in;
  in.messages = g["messages"];
  in.tools = g["tools"];
  in.kwargs = g["kwargs"];
  in.add_generation_prompt = g["add_generation_prompt"];
  in.now = jinja::parse_fixed_date(g["date"].get<std::string>());
  return in;
}

TEST(HarmonyPromptGolden, MatchesOpenAiHarmony) {
  const std::vector<Json> cases = goldens();
  ASSERT_GE(cases.size(), 20u);
  for (const Json& g : cases) {
    SCOPED_TRACE(g["name"].get<std::string>());
    EXPECT_EQ(render_chat_text(nullptr, input_of(g), "", ""), g["expected"].get<std::string>());
  }
}

std::string error_of(const ChatPromptInput& in) {
  try {
    render_chat_text(nullptr, in, "", "");
  } catch (const ApiError& e) {
    return e.what();
  }
  return "";
}

TEST(HarmonyPrompt, RequestErrors) {
  ChatPromptInput in;
  in.messages = Json::parse(R"([{"role": "tool", "content": "20"}])");
  EXPECT_NE(error_of(in).find("tool result needs an earlier assistant tool call"),
            std::string::npos);
  in.messages = Json::parse(R"([{"role": "user", "content": "hi"}])");
  in.kwargs = Json::parse(R"({"reasoning_effort": "max"})");
  EXPECT_NE(error_of(in).find("reasoning_effort must be 'low', 'medium' or 'high'"),
            std::string::npos);
  in.kwargs = Json::parse(R"({"builtin_tools": ["python"]})");
  EXPECT_NE(error_of(in).find("built-in tools"), std::string::npos);
  in.kwargs = Json::parse(R"({"builtin_tools": [], "enable_thinking": true})");
  EXPECT_EQ(error_of(in), "");
}

}  // namespace
}  // namespace sluice::api
