// plan_chat_output's template input for thinking: on unless the request turns it off.
#include "api/output_plan.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "chat_test_util.h"

namespace sluice::api {
namespace {

std::string testdata_dir() {
  if (const char* env = std::getenv("SLUICE_TESTDATA")) return env;
  return std::string(SLUICE_SOURCE_DIR) + "/../shared/testdata";
}

// The R1 distill template closes <think> in the prompt when enable_thinking is undefined.
std::string render_r1(const ChatPromptInput& in) {
  std::ifstream f(testdata_dir() + "/templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja");
  std::stringstream ss;
  ss << f.rdbuf();
  auto tpl = ChatTemplate::parse(ss.str());
  EXPECT_TRUE(tpl.ok()) << tpl.error();
  nlohmann::ordered_json context =
      in.kwargs.is_object() ? in.kwargs : nlohmann::ordered_json::object();
  context["messages"] = in.messages;
  context["add_generation_prompt"] = true;
  context["bos_token"] = "";
  auto text = tpl->render(context);
  EXPECT_TRUE(text.ok()) << text.error();
  return text.ok() ? *text : "";
}

using testing::ask;

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

TEST(OutputPlanTest, ThinkingIsOnByDefaultSoTheTemplateOpensTheSection) {
  ModelContext ctx;
  ctx.reasoning_tags = ReasoningTags{};
  OutputRequest req;
  req.thinking.budget = 4;  // a budget alone must not leave the section closed
  ChatPromptInput in = ask();
  OutputPlan plan = plan_chat_output(ctx, req, in);
  ASSERT_TRUE(plan.reasoning);
  EXPECT_EQ(in.kwargs.value("enable_thinking", false), true);
  EXPECT_TRUE(ends_with(render_r1(in), "<think>\n"));
}

TEST(OutputPlanTest, ThinkingOffClosesTheSection) {
  ModelContext ctx;
  OutputRequest req;
  req.thinking.enabled = false;
  ChatPromptInput in = ask();
  plan_chat_output(ctx, req, in);
  EXPECT_EQ(in.kwargs.value("enable_thinking", true), false);
  EXPECT_TRUE(ends_with(render_r1(in), "<think>\n</think>"));
}

TEST(OutputPlanTest, TheRequestsOwnTemplateKwargWins) {
  ModelContext ctx;
  OutputRequest req;
  req.thinking.enabled = true;
  ChatPromptInput in = ask();
  in.kwargs = nlohmann::ordered_json::parse(R"({"enable_thinking": false})");
  plan_chat_output(ctx, req, in);
  EXPECT_EQ(in.kwargs.value("enable_thinking", true), false);
}

}  // namespace
}  // namespace sluice::api
