// Reasoning markers from the chat template through the API's plan: configure_output_parsing
// picks each family's tags, the plan carries them to the parser and the engine's reasoning
// control, and a prompt that closes the section (thinking off) turns the split off.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "../tiny_model.h"
#include "api/output_plan.h"
#include "chat_test_util.h"

namespace sluice::api {
namespace {

std::string read_template(const std::string& name) {
  const char* env = std::getenv("SLUICE_TESTDATA");
  std::ifstream f(std::string(env ? env : SLUICE_SOURCE_DIR "/../shared/testdata") + "/templates/" +
                  name);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::unique_ptr<Model>& shared_tiny_model() {
  static std::unique_ptr<Model> model = [] {
    auto m = testing::load_tiny_model("reasoning-tags");
    EXPECT_TRUE(m) << m.error();
    return m ? std::move(*m) : nullptr;
  }();
  return model;
}

// A context as configure_output_parsing leaves it for `template_file` (the model is shared).
struct Configured {
  ModelContext ctx;
  explicit Configured(const std::string& template_file,
                      const std::string& reasoning_parser = "auto") {
    ctx.model = std::move(shared_tiny_model());
    ctx.options.reasoning_parser = reasoning_parser;
    auto tpl = ChatTemplate::parse(read_template(template_file));
    EXPECT_TRUE(tpl) << tpl.error();
    ctx.chat_template = std::make_unique<ChatTemplate>(std::move(*tpl));
    configure_output_parsing(ctx);
  }
  ~Configured() { shared_tiny_model() = std::move(ctx.model); }
  std::string prompt(const ChatPromptInput& in) {
    nlohmann::ordered_json c = in.kwargs;
    c["messages"] = in.messages;
    c["add_generation_prompt"] = true;
    c["bos_token"] = "";
    auto text = ctx.chat_template->render(c);
    EXPECT_TRUE(text) << text.error();
    return text ? *text : "";
  }
};

using testing::ask;

TEST(ReasoningTagsPlan, EachFamilysTags) {
  const std::vector<std::tuple<std::string, std::string, std::string>> families = {
      {"Qwen-Qwen3-0.6B.jinja", "<think>", "</think>"},
      {"deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja", "<think>", "</think>"},
      {"GLM-4.6.jinja", "<think>", "</think>"},
      {"MiniMax-M2.jinja", "<think>", "</think>"},
      {"ibm-granite-granite-3.3-2B-Instruct.jinja", "<think>", "</think>"},
      {"mistralai-Ministral-3-14B-Reasoning-2512.jinja", "[THINK]", "[/THINK]"},
      {"google-gemma-4-31B-it.jinja", "<|channel>thought", "<channel|>"},
      {"openai-gpt-oss-120b.jinja", "", ""},  // harmony: the format's own channels
      {"meta-llama-Llama-3.1-8B-Instruct.jinja", "", ""},
  };
  for (const auto& [file, open, close] : families) {
    SCOPED_TRACE(file);
    Configured c(file);
    EXPECT_EQ(c.ctx.reasoning_tags ? c.ctx.reasoning_tags->open : "", open);
    EXPECT_EQ(c.ctx.reasoning_tags ? c.ctx.reasoning_tags->close : "", close);
    ChatPromptInput in = ask();
    OutputPlan plan = plan_chat_output(c.ctx, OutputRequest{}, in);
    EXPECT_EQ(plan.reasoning.has_value(), !open.empty());
    if (plan.reasoning) {
      EXPECT_EQ(plan.reasoning->open, open);
      EXPECT_EQ(plan.reasoning->close, close);
    }
  }
}

TEST(ReasoningTagsPlan, Granite33AnswerMarkersReachThePlan) {
  Configured c("ibm-granite-granite-3.3-2B-Instruct.jinja");
  ChatPromptInput in = ask();
  OutputPlan plan = plan_chat_output(c.ctx, OutputRequest{}, in);
  ASSERT_TRUE(plan.reasoning);
  EXPECT_EQ(plan.reasoning->answer_open, "<response>");
  EXPECT_EQ(plan.reasoning->answer_close, "</response>");
}

TEST(ReasoningTagsPlan, FlagsOverrideTheTemplate) {
  EXPECT_FALSE(Configured("google-gemma-4-31B-it.jinja", "none").ctx.reasoning_tags);
  auto forced = Configured("meta-llama-Llama-3.1-8B-Instruct.jinja", "think").ctx.reasoning_tags;
  ASSERT_TRUE(forced);
  EXPECT_EQ(forced->open, "<think>");
}

TEST(ReasoningTagsPlan, Gemma4ThinkingOnAndOff) {
  Configured c("google-gemma-4-31B-it.jinja");
  {  // on: the prompt leaves the thought channel to the model
    OutputRequest req;
    ChatPromptInput in = ask();
    OutputPlan plan = plan_chat_output(c.ctx, req, in);
    EngineRequest er;
    apply_output_plan(c.ctx, req, plan, c.prompt(in), er);
    ASSERT_TRUE(plan.reasoning);
    EXPECT_FALSE(plan.reasoning_starts_inside);
    EXPECT_TRUE(er.reasoning.enabled);
    EXPECT_EQ(er.reasoning.open_text, "<|channel>thought");
    EXPECT_EQ(er.reasoning.close_text, "<channel|>");
  }
  {  // off: the prompt writes an empty, closed channel
    OutputRequest req;
    req.thinking.enabled = false;
    ChatPromptInput in = ask();
    OutputPlan plan = plan_chat_output(c.ctx, req, in);
    EngineRequest er;
    apply_output_plan(c.ctx, req, plan, c.prompt(in), er);
    EXPECT_FALSE(plan.reasoning);
    EXPECT_FALSE(er.reasoning.enabled);
  }
}

TEST(ReasoningTagsPlan, R1PromptStartsInside) {
  Configured c("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja");
  OutputRequest req;
  ChatPromptInput in = ask();
  OutputPlan plan = plan_chat_output(c.ctx, req, in);
  EngineRequest er;
  apply_output_plan(c.ctx, req, plan, c.prompt(in), er);
  ASSERT_TRUE(plan.reasoning);
  EXPECT_TRUE(plan.reasoning_starts_inside);
  EXPECT_TRUE(er.reasoning.starts_inside);
}

}  // namespace
}  // namespace sluice::api
