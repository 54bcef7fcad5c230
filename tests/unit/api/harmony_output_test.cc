// Harmony (gpt-oss) through the API layer: the plan (channels parsed without tools, reasoning
// effort, the engine's reasoning control, grammars), the composed parser (any split gives the same
// message), and the OpenAI / Anthropic stream shapes built from it.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "../tiny_model.h"
#include "api/anthropic/anthropic_responses.h"
#include "api/assistant_output.h"
#include "api/openai/openai_responses.h"
#include "api/output_plan.h"

namespace sluice::api {
namespace {

const std::string kOutput =
    "<|channel|>analysis<|message|>Need the weather for Paris.<|end|><|start|>assistant"
    "<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>"
    "{\"city\":\"Paris\"}";

std::string gpt_oss_template() {
  const char* env = std::getenv("SLUICE_TESTDATA");
  std::ifstream f(std::string(env ? env : SLUICE_SOURCE_DIR "/../shared/testdata") +
                  "/templates/openai-gpt-oss-120b.jinja");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A context as configure_output_parsing leaves it for gpt-oss (its template, a tiny model).
ModelContext& harmony_ctx() {
  static ModelContext* ctx = [] {
    auto* c = new ModelContext;
    auto model = testing::load_tiny_model("harmony-test");
    EXPECT_TRUE(model) << model.error();
    c->model = std::move(*model);
    auto tpl = ChatTemplate::parse(gpt_oss_template());
    EXPECT_TRUE(tpl) << tpl.error();
    c->chat_template = std::make_unique<ChatTemplate>(std::move(*tpl));
    configure_output_parsing(*c);
    return c;
  }();
  return *ctx;
}

Json weather_tool() {
  return Json::parse(R"([{"name": "get_weather", "description": "Weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}])");
}

ChatPromptInput ask_weather() {
  ChatPromptInput in;
  in.messages = Json::parse(R"([{"role": "user", "content": "Weather in Paris?"}])");
  return in;
}

TEST(HarmonyPlan, TheTemplateChoosesHarmony) {
  ModelContext& ctx = harmony_ctx();
  EXPECT_EQ(ctx.tool_format, "harmony");
  EXPECT_TRUE(ctx.harmony_prompt);
  EXPECT_TRUE(ctx.template_knows_tools);
  EXPECT_FALSE(ctx.reasoning_tags);
}

TEST(HarmonyPlan, ChannelsAreParsedWithoutTools) {
  ChatPromptInput in = ask_weather();
  OutputPlan plan = plan_chat_output(harmony_ctx(), OutputRequest{}, in);
  ASSERT_NE(plan.tool_format, nullptr);
  EXPECT_EQ(plan.tool_format->name(), "harmony");
  EXPECT_TRUE(plan.parses_reasoning());
  EXPECT_TRUE(plan.tool_spec.functions.is_null() || plan.tool_spec.functions.empty());
  EXPECT_TRUE(in.tools.is_null());
}

TEST(HarmonyPlan, ReasoningEffort) {
  ModelContext& ctx = harmony_ctx();
  auto effort_of = [&](OutputRequest req, Json kwargs = nullptr) {
    ChatPromptInput in = ask_weather();
    in.kwargs = kwargs;
    plan_chat_output(ctx, req, in);
    return in.kwargs.value("reasoning_effort", "");
  };
  EXPECT_EQ(effort_of({}), "");  // the template's default (medium)
  OutputRequest req;
  req.thinking.effort = "high";
  EXPECT_EQ(effort_of(req), "high");
  EXPECT_EQ(effort_of(req, Json{{"reasoning_effort", "low"}}), "low");  // the kwarg wins
  OutputRequest off;
  off.thinking.enabled = false;
  EXPECT_EQ(effort_of(off), "low");  // harmony models always reason: the least they can
  off.thinking.effort = "medium";
  EXPECT_EQ(effort_of(off), "medium");
}

TEST(HarmonyPlan, EffortOnATemplateWithoutOne) {
  ModelContext ctx;  // no template: takes no effort
  OutputRequest req;
  req.thinking.effort = "low";
  ChatPromptInput in = ask_weather();
  try {
    plan_chat_output(ctx, req, in);
    ADD_FAILURE() << "expected a 400";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.param(), "reasoning_effort");
  }
  req.thinking.effort_is_hint = true;  // Anthropic output_config.effort: no effect, no error
  req.thinking.effort_param = "output_config.effort";
  in = ask_weather();
  plan_chat_output(ctx, req, in);
  EXPECT_FALSE(in.kwargs.contains("reasoning_effort"));
}

TEST(HarmonyPlan, EngineControlAndGrammar) {
  ModelContext& ctx = harmony_ctx();
  const Tokenizer& tok = ctx.model->tokenizer();
  const EncodeOptions special{.add_special = false, .parse_special = true};
  {  // free output: a spent budget closes the analysis and opens the final answer
    OutputRequest req;
    req.thinking.budget = 64;
    ChatPromptInput in = ask_weather();
    OutputPlan plan = plan_chat_output(ctx, req, in);
    EngineRequest er;
    apply_output_plan(ctx, req, plan, "", er);
    EXPECT_FALSE(er.skip_special_tokens);
    EXPECT_TRUE(er.reasoning.enabled);
    EXPECT_FALSE(er.reasoning.starts_inside);
    EXPECT_EQ(er.reasoning.open_text, "<|channel|>analysis<|message|>");
    EXPECT_EQ(er.reasoning.close_text, "<|end|>");
    EXPECT_EQ(er.reasoning.budget, 64);
    EXPECT_EQ(er.reasoning.close_tokens,
              tok.encode("<|end|><|start|>assistant<|channel|>final<|message|>", special));
    EXPECT_FALSE(er.constraint);
  }
  {  // a forced call: the grammar writes what follows the close
    OutputRequest req;
    req.tools.functions = weather_tool();
    req.tools.choice = ToolRequest::Choice::kRequired;
    ChatPromptInput in = ask_weather();
    OutputPlan plan = plan_chat_output(ctx, req, in);
    ASSERT_TRUE(in.tools.is_array());
    EngineRequest er;
    apply_output_plan(ctx, req, plan, "", er);
    EXPECT_TRUE(er.constraint);
    EXPECT_EQ(er.reasoning.close_tokens, tok.encode("<|end|>", special));
  }
  {  // response_format: wrapped in the final message
    OutputRequest req;
    req.format.kind = FormatRequest::Kind::kJsonObject;
    ChatPromptInput in = ask_weather();
    OutputPlan plan = plan_chat_output(ctx, req, in);
    EngineRequest er;
    apply_output_plan(ctx, req, plan, "", er);
    ASSERT_TRUE(er.constraint);
    auto c = er.constraint();
    for (char ch : std::string("<|channel|>final<|message|>{}")) {  // byte-fallback tokens
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", static_cast<unsigned char>(ch));
      auto id = tok.token_id(name);
      ASSERT_TRUE(id) << name;
      EXPECT_TRUE(c->accept(*id)) << ch;
    }
    EXPECT_TRUE(c->must_finish());
  }
}

OutputPlan weather_plan() {
  OutputRequest req;
  req.tools.functions = weather_tool();
  ChatPromptInput in = ask_weather();
  return plan_chat_output(harmony_ctx(), req, in);
}

TEST(HarmonyOutput, EverySplitGivesTheSameMessage) {
  const OutputPlan plan = weather_plan();
  const AssistantMessage whole = parse_assistant_text(plan, kOutput, "call_");
  EXPECT_EQ(whole.reasoning, "Need the weather for Paris.");
  EXPECT_EQ(whole.content, "");
  ASSERT_EQ(whole.calls.size(), 1u);
  EXPECT_EQ(whole.calls[0].name, "get_weather");
  EXPECT_EQ(whole.calls[0].arguments, "{\"city\":\"Paris\"}");
  EXPECT_EQ(whole.calls[0].id.rfind("call_", 0), 0u);
  for (size_t step : {1, 2, 3, 5, 7, 11}) {
    AssistantOutputParser p(plan, "call_");
    std::vector<AssistantEvent> events;
    for (size_t i = 0; i < kOutput.size(); i += step) p.feed(kOutput.substr(i, step), events);
    p.finish(events);
    AssistantMessage m;
    append_events(m, events);
    EXPECT_EQ(m.reasoning, whole.reasoning) << step;
    EXPECT_EQ(m.content, whole.content) << step;
    ASSERT_EQ(m.calls.size(), 1u) << step;
    EXPECT_EQ(m.calls[0].arguments, whole.calls[0].arguments) << step;
  }
}

TEST(HarmonyOutput, APrefillContinuesTheFinalMessage) {
  OutputPlan plan = weather_plan();
  plan.output_prefix = "<|channel|>final<|message|>";  // what anthropic_prompt_tokens writes
  const AssistantMessage m = parse_assistant_text(plan, " monde!", "toolu_");
  EXPECT_EQ(m.content, " monde!");
  EXPECT_EQ(m.reasoning, "");
}

// The SSE data objects of a stream.
std::vector<Json> sse_objects(const std::string& sse) {
  std::vector<Json> out;
  std::istringstream in(sse);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("data: {", 0) == 0) out.push_back(Json::parse(line.substr(6)));
  return out;
}

TEST(HarmonyOutput, OpenAiStreamAndBody) {
  ResponseMeta meta;
  meta.id = "chatcmpl-1";
  meta.model = "gpt-oss";
  meta.plan = std::make_shared<OutputPlan>(weather_plan());
  StreamEncoder enc(meta);
  std::string sse = enc.start();
  RequestOutput out;
  for (size_t i = 0; i < kOutput.size(); i += 4) {
    out.deltas = {SequenceDelta{}};
    out.deltas[0].text = kOutput.substr(i, 4);
    if (i + 4 >= kOutput.size()) out.deltas[0].finish_reason = FinishReason::kStop;
    sse += enc.on_output(out);
  }
  std::string reasoning, args, finish;
  for (const Json& c : sse_objects(sse)) {
    const Json& ch = c["choices"][0];
    const Json& d = ch["delta"];
    if (d.contains("reasoning_content")) reasoning += d["reasoning_content"].get<std::string>();
    if (d.contains("content")) EXPECT_EQ(d["content"], "");  // only the role chunk's
    if (d.contains("tool_calls"))
      args += d["tool_calls"][0]["function"]["arguments"].get<std::string>();
    if (ch["finish_reason"].is_string()) finish = ch["finish_reason"];
  }
  EXPECT_EQ(reasoning, "Need the weather for Paris.");
  EXPECT_EQ(args, "{\"city\":\"Paris\"}");
  EXPECT_EQ(finish, "tool_calls");

  RequestOutput all;
  all.deltas = {SequenceDelta{}};
  all.deltas[0].text = kOutput;
  all.deltas[0].finish_reason = FinishReason::kStop;
  const Json body = build_response(meta, all);
  const Json& msg = body["choices"][0]["message"];
  EXPECT_EQ(msg["reasoning_content"], "Need the weather for Paris.");
  EXPECT_TRUE(msg["content"].is_null());
  EXPECT_EQ(msg["tool_calls"][0]["function"]["name"], "get_weather");
  EXPECT_EQ(body["choices"][0]["finish_reason"], "tool_calls");
}

TEST(HarmonyOutput, AnthropicBlocks) {
  const OutputPlan plan = weather_plan();
  AssistantOutputParser p(plan, "toolu_");
  BlockStreamWriter blocks;
  std::string sse;
  std::vector<AssistantEvent> events;
  for (size_t i = 0; i < kOutput.size(); i += 6) {
    events.clear();
    p.feed(kOutput.substr(i, 6), events);
    sse += blocks.on_events(events);
  }
  events.clear();
  p.finish(events);
  sse += blocks.on_events(events) + blocks.close();
  std::vector<std::string> starts;
  std::string thinking, input;
  for (const Json& e : sse_objects(sse)) {
    if (e["type"] == "content_block_start") starts.push_back(e["content_block"]["type"]);
    if (e["type"] == "content_block_delta" && e["delta"]["type"] == "thinking_delta")
      thinking += e["delta"]["thinking"].get<std::string>();
    if (e["type"] == "content_block_delta" && e["delta"]["type"] == "input_json_delta")
      input += e["delta"]["partial_json"].get<std::string>();
  }
  EXPECT_EQ(starts, (std::vector<std::string>{"thinking", "tool_use"}));
  EXPECT_EQ(thinking, "Need the weather for Paris.");
  EXPECT_EQ(input, "{\"city\":\"Paris\"}");
  EXPECT_TRUE(blocks.called_tools());

  const Json content = content_blocks(parse_assistant_text(plan, kOutput, "toolu_"));
  EXPECT_EQ(content[0]["type"], "thinking");
  EXPECT_EQ(content[1]["type"], "tool_use");
  EXPECT_EQ(content[1]["input"]["city"], "Paris");
}

}  // namespace
}  // namespace sluice::api
