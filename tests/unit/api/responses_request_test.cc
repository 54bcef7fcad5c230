// Responses API request parsing: fields, tools, formats, reasoning, rejected fields, and input
// items -> chat messages.
#include <gtest/gtest.h>

#include "api/responses/responses_input.h"
#include "api/responses/responses_output.h"
#include "api/responses/responses_params.h"

namespace sluice::api {
namespace {

ResponsesRequest parse(const char* body) {
  return parse_responses_request(Json::parse(body), ResponsesEndpoint::kCreate);
}

// The 400's param, or "" when it parsed.
std::string rejected(const char* body, ResponsesEndpoint ep = ResponsesEndpoint::kCreate) {
  try {
    parse_responses_request(Json::parse(body), ep);
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 400) << e.what();
    return e.param();
  }
  return "";
}

TEST(ResponsesParamsTest, StringInputIsOneUserMessageAndDefaultsAreEchoed) {
  const ResponsesRequest r = parse(R"({"model": "m", "input": "hi"})");
  ASSERT_EQ(r.input.size(), 1u);
  EXPECT_EQ(r.input[0]["type"], "message");
  EXPECT_EQ(r.input[0]["role"], "user");
  EXPECT_EQ(r.input[0]["content"][0], Json::parse(R"({"type": "input_text", "text": "hi"})"));
  EXPECT_TRUE(r.store);
  EXPECT_FALSE(r.stream);
  EXPECT_EQ(r.echo["tool_choice"], "auto");
  EXPECT_EQ(r.echo["temperature"], 1.0);
  EXPECT_EQ(r.echo["text"]["format"]["type"], "text");
  EXPECT_TRUE(r.echo["instructions"].is_null());
  EXPECT_EQ(r.echo["metadata"], Json::object());
}

TEST(ResponsesParamsTest, FlatFunctionToolsAndNamedChoice) {
  const ResponsesRequest r = parse(R"({"input": "x", "tools": [{"type": "function",
      "name": "f", "description": "d", "parameters": {"type": "object"}, "strict": true}],
      "tool_choice": {"type": "function", "name": "f"}, "parallel_tool_calls": false})");
  ASSERT_EQ(r.output.tools.functions.size(), 1u);
  EXPECT_EQ(r.output.tools.functions[0]["name"], "f");
  EXPECT_EQ(r.output.tools.functions[0]["parameters"]["type"], "object");
  EXPECT_EQ(r.output.tools.choice, ToolRequest::Choice::kNamed);
  EXPECT_EQ(r.output.tools.named, "f");
  EXPECT_FALSE(r.output.tools.parallel);
  EXPECT_EQ(r.echo["tools"][0]["strict"], true);
  EXPECT_EQ(r.echo["parallel_tool_calls"], false);
}

TEST(ResponsesParamsTest, TextFormatsMapToTheStructuredOutputPath) {
  const ResponsesRequest s = parse(R"({"input": "x", "text": {"format": {"type": "json_schema",
      "name": "out", "schema": {"type": "object"}, "strict": true}}})");
  EXPECT_EQ(s.output.format.kind, FormatRequest::Kind::kJsonSchema);
  EXPECT_EQ(s.output.format.schema, Json::parse(R"({"type": "object"})"));
  EXPECT_EQ(s.echo["text"]["format"]["name"], "out");
  const ResponsesRequest o =
      parse(R"({"input": "x", "text": {"format": {"type": "json_object"}}})");
  EXPECT_EQ(o.output.format.kind, FormatRequest::Kind::kJsonObject);
  EXPECT_EQ(rejected(R"({"input": "x", "text": {"format": {"type": "json_schema",
      "schema": {}}}})"),
            "text.format");  // name is required
}

TEST(ResponsesParamsTest, ReasoningEffortMapsLikeChat) {
  EXPECT_EQ(parse(R"({"input": "x", "reasoning": {"effort": "minimal"}})").output.thinking.effort,
            "low");
  EXPECT_EQ(parse(R"({"input": "x", "reasoning": {"effort": "high", "summary": "auto"}})")
                .output.thinking.effort,
            "high");
  EXPECT_EQ(parse(R"({"input": "x", "reasoning": {"effort": "none"}})").output.thinking.enabled,
            false);
  EXPECT_EQ(rejected(R"({"input": "x", "reasoning": {"effort": "max"}})"), "reasoning");
}

TEST(ResponsesParamsTest, SamplingAndLimits) {
  const ResponsesRequest r = parse(
      R"({"input": "x", "temperature": 0.5, "top_p": 0.9, "max_output_tokens": 7,
          "store": false, "stream": true, "metadata": {"k": "v"}, "user": "u",
          "safety_identifier": "s", "prompt_cache_key": "c"})");
  EXPECT_FLOAT_EQ(r.params.temperature, 0.5f);
  EXPECT_FLOAT_EQ(r.params.top_p, 0.9f);
  EXPECT_EQ(r.max_output_tokens, 7);
  EXPECT_FALSE(r.store);
  EXPECT_TRUE(r.stream);
  EXPECT_EQ(r.cache_salt, "c");
  EXPECT_EQ(r.echo["metadata"]["k"], "v");
  EXPECT_EQ(r.echo["temperature"], 0.5);
  EXPECT_EQ(rejected(R"({"input": "x", "temperature": 3})"), "temperature");
  EXPECT_EQ(rejected(R"({"input": "x", "max_output_tokens": 0})"), "max_output_tokens");
  EXPECT_EQ(rejected(R"({"input": "x", "metadata": {"k": 1}})"), "metadata");
}

TEST(ResponsesParamsTest, UnsupportedFieldsAreRejectedByName) {
  EXPECT_EQ(rejected(R"({"input": "x", "background": true})"), "background");
  EXPECT_EQ(rejected(R"({"input": "x", "conversation": "conv_1"})"), "conversation");
  EXPECT_EQ(rejected(R"({"input": "x", "truncation": "auto"})"), "truncation");
  EXPECT_EQ(rejected(R"({"input": "x", "include": ["message.output_text.logprobs"]})"), "include");
  EXPECT_TRUE(parse_responses_request(
                  Json::parse(R"({"input": "x", "include": ["reasoning.encrypted_content"]})"),
                  ResponsesEndpoint::kCreate)
                  .encrypted_reasoning);
  EXPECT_EQ(rejected(R"({"input": "x", "no_such_field": 1})"), "no_such_field");
  EXPECT_EQ(rejected(R"({"input": "x", "tools": [{"type": "web_search"}]})"), "tools");
  // Images parse (a model without a vision tower refuses them when the prompt is built); files
  // and images in an assistant's turn do not.
  EXPECT_EQ(rejected(R"({"input": [{"role": "user", "content": [{"type": "input_image",
      "image_url": "http://x"}]}]})"),
            "");
  EXPECT_EQ(rejected(R"({"input": [{"role": "user", "content": [{"type": "input_image",
      "file_id": "file_1"}]}]})"),
            "input");
  EXPECT_EQ(rejected(R"({"input": [{"role": "assistant", "content": [{"type": "input_image",
      "image_url": "http://x"}]}]})"),
            "input");
  EXPECT_EQ(rejected(R"({"input": [{"type": "item_reference", "id": "c"}]})"), "input");
  EXPECT_EQ(rejected(R"({"model": "m"})"), "input");
  // Defaults of unsupported fields are fine; input_tokens takes no sampling fields.
  EXPECT_EQ(rejected(R"({"input": "x", "background": false, "truncation": "disabled",
      "include": [], "conversation": null})"),
            "");
  EXPECT_EQ(rejected(R"({"input": "x", "temperature": 1})", ResponsesEndpoint::kInputTokens),
            "temperature");
}

Json messages_of(const char* items, std::optional<std::string> instructions = std::nullopt) {
  return chat_messages(normalize_input_items(Json::parse(items)), instructions);
}

TEST(ResponsesInputTest, InstructionsAndSystemItemsLeadAsOneSystemMessage) {
  const Json m = messages_of(R"([{"role": "developer", "content": "dev"},
      {"role": "user", "content": [{"type": "input_text", "text": "a"},
                                   {"type": "input_text", "text": "b"}]}])",
                             "inst");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0], Json::parse(R"({"role": "system", "content": "inst\n\ndev"})"));
  EXPECT_EQ(m[1], Json::parse(R"({"role": "user", "content": "a\nb"})"));
}

TEST(ResponsesInputTest, AssistantItemsFormOneTurnWithReasoningAndToolCalls) {
  const Json m = messages_of(R"([
      {"role": "user", "content": "q"},
      {"type": "reasoning", "id": "rs_1", "summary": [],
       "content": [{"type": "reasoning_text", "text": "think"}]},
      {"type": "message", "role": "assistant", "id": "msg_1", "status": "completed",
       "content": [{"type": "output_text", "text": "calling", "annotations": []}]},
      {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "f",
       "arguments": "{\"a\": 1}", "status": "completed"},
      {"type": "function_call_output", "call_id": "call_1", "output": "42"}])");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[1]["role"], "assistant");
  EXPECT_EQ(m[1]["content"], "calling");
  EXPECT_EQ(m[1]["reasoning_content"], "think");
  ASSERT_EQ(m[1]["tool_calls"].size(), 1u);
  EXPECT_EQ(m[1]["tool_calls"][0]["id"], "call_1");
  EXPECT_EQ(m[1]["tool_calls"][0]["function"]["arguments"], "{\"a\": 1}");
  EXPECT_EQ(m[2], Json::parse(R"({"role": "tool", "tool_call_id": "call_1", "content": "42",
                                  "name": "f"})"));
}

TEST(ResponsesInputTest, EncryptedReasoningComesBackAsReasoning) {
  const std::string items = R"([{"role": "user", "content": "q"},
      {"type": "reasoning", "summary": [], "encrypted_content": ")" +
                            encode_reasoning("thought") + R"("},
      {"type": "message", "role": "assistant", "content": "a"}])";
  const Json m = messages_of(items.c_str());
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[1]["reasoning_content"], "thought");
  EXPECT_THROW(messages_of(R"([{"type": "reasoning", "summary": [],
      "encrypted_content": "gAAAAABo-not-ours"}])"),
               ApiError);
}

TEST(ResponsesInputTest, ReasoningWithNoAssistantTurnAfterIsDropped) {
  const Json m = messages_of(R"([{"type": "reasoning", "summary": [{"type": "summary_text",
      "text": "s"}]}, {"role": "user", "content": "q"}])");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_FALSE(m[0].contains("reasoning_content"));
}

TEST(ResponsesInputTest, FunctionCallOutputPartsAreJoined) {
  const Json m = messages_of(R"([{"role": "user", "content": "q"},
      {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
      {"type": "function_call_output", "call_id": "c",
       "output": [{"type": "input_text", "text": "a"}, {"type": "input_text", "text": "b"}]}])");
  EXPECT_EQ(m.back()["content"], "a\nb");
  EXPECT_THROW(messages_of(R"([{"role": "system", "content": "only system"}])"), ApiError);
}

}  // namespace
}  // namespace sluice::api
