// The Responses API output writer: output items and the SSE event sequence OpenAI streams, and
// the response store's LRU bounds.
#include "api/responses/responses_output.h"

#include <gtest/gtest.h>

#include "api/responses/response_store.h"

namespace sluice::api {
namespace {

struct Event {
  std::string name;
  Json data;
};

// "event: NAME\ndata: JSON\n\n"... -> events; checks the name equals data.type.
std::vector<Event> sse_events_of(const std::string& sse) {
  std::vector<Event> out;
  size_t pos = 0;
  while (pos < sse.size()) {
    const size_t end = sse.find("\n\n", pos);
    const std::string block = sse.substr(pos, end - pos);
    pos = end + 2;
    const size_t nl = block.find('\n');
    EXPECT_EQ(block.rfind("event: ", 0), 0u) << block;
    Event e{block.substr(7, nl - 7), Json::parse(block.substr(nl + 7))};
    EXPECT_EQ(e.data["type"], e.name);
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<std::string> names(const std::vector<Event>& events) {
  std::vector<std::string> n;
  for (const Event& e : events) n.push_back(e.name);
  return n;
}

AssistantEvent output_ev(AssistantEvent::Kind kind, std::string text = "") {
  AssistantEvent e;
  e.kind = kind;
  e.text = std::move(text);
  if (kind == AssistantEvent::Kind::kToolBegin) {
    e.tool_id = "call_1";
    e.tool_name = "f";
  }
  return e;
}

using K = AssistantEvent::Kind;

TEST(ResponsesOutputTest, ReasoningThenMessageThenCallInOpenAIsOrder) {
  ResponseOutputWriter w;
  ResponseHead head{"resp_1", 5, "m", Json{{"metadata", Json::object()}}};
  std::string sse = w.start(response_json(head, "in_progress", Json::array(), nullptr));
  sse += w.on_events({output_ev(K::kReasoning, "hm"), output_ev(K::kReasoning, "m"),
                      output_ev(K::kContent, "\n\n"), output_ev(K::kContent, "Hi"),
                      output_ev(K::kContent, "!"), output_ev(K::kToolBegin),
                      output_ev(K::kToolArguments, "{\"a\""), output_ev(K::kToolArguments, ": 1}"),
                      output_ev(K::kToolEnd)});
  sse += w.finish(false);
  sse += w.end(response_json(head, "completed", w.items(), nullptr));
  const std::vector<Event> e = sse_events_of(sse);
  const std::vector<std::string> expected = {"response.created",
                                             "response.in_progress",
                                             "response.output_item.added",
                                             "response.content_part.added",
                                             "response.reasoning_text.delta",
                                             "response.reasoning_text.delta",
                                             "response.reasoning_text.done",
                                             "response.content_part.done",
                                             "response.output_item.done",
                                             "response.output_item.added",
                                             "response.content_part.added",
                                             "response.output_text.delta",
                                             "response.output_text.delta",
                                             "response.output_text.done",
                                             "response.content_part.done",
                                             "response.output_item.done",
                                             "response.output_item.added",
                                             "response.function_call_arguments.delta",
                                             "response.function_call_arguments.delta",
                                             "response.function_call_arguments.done",
                                             "response.output_item.done",
                                             "response.completed"};
  EXPECT_EQ(names(e), expected);
  for (size_t i = 0; i < e.size(); ++i) EXPECT_EQ(e[i].data["sequence_number"], i);
  EXPECT_EQ(e[6].data["text"], "hmm");
  EXPECT_EQ(e[11].data["delta"], "Hi");  // the blank text before the message is not an item
  EXPECT_EQ(e[13].data["text"], "Hi!");
  EXPECT_EQ(e[13].data["output_index"], 1);
  EXPECT_EQ(e[19].data["arguments"], "{\"a\": 1}");
  EXPECT_EQ(e[19].data["item_id"], e[16].data["item"]["id"]);

  const Json& items = w.items();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0]["type"], "reasoning");
  EXPECT_EQ(items[0]["content"][0], Json::parse(R"({"type": "reasoning_text", "text": "hmm"})"));
  EXPECT_EQ(items[1]["type"], "message");
  EXPECT_EQ(items[1]["status"], "completed");
  EXPECT_EQ(items[1]["content"][0]["type"], "output_text");
  EXPECT_EQ(items[1]["content"][0]["text"], "Hi!");
  EXPECT_EQ(items[2]["type"], "function_call");
  EXPECT_EQ(items[2]["call_id"], "call_1");
  EXPECT_EQ(items[2]["name"], "f");
  EXPECT_EQ(items[2]["arguments"], "{\"a\": 1}");
  EXPECT_EQ(items[2]["status"], "completed");
  EXPECT_EQ(w.reasoning(), "hmm");
  EXPECT_EQ(e.back().data["response"]["output"], items);
}

TEST(ResponsesOutputTest, AnEmptyOutputIsOneEmptyMessageAndIncompleteIsMarked) {
  ResponseOutputWriter w;
  const std::vector<Event> e = sse_events_of(w.finish(true));
  ASSERT_EQ(e.size(), 5u);
  EXPECT_EQ(e[0].name, "response.output_item.added");
  EXPECT_EQ(e[4].data["item"]["status"], "incomplete");
  EXPECT_EQ(w.items()[0]["content"][0]["text"], "");
  ResponseHead head{"resp_1", 5, "m", Json::object()};
  const Json r = response_json(head, "incomplete", w.items(), nullptr);
  EXPECT_EQ(r["incomplete_details"]["reason"], "max_output_tokens");
  EXPECT_EQ(sse_events_of(w.end(r))[0].name, "response.incomplete");
}

TEST(ResponsesOutputTest, IncludedEncryptedReasoningDecodesToTheText) {
  ResponseOutputWriter w(true);
  w.on_events({output_ev(K::kReasoning, "step one"), output_ev(K::kContent, "answer")});
  w.finish(false);
  ASSERT_EQ(w.items().size(), 2u);
  const Json& r = w.items()[0];
  ASSERT_TRUE(r.contains("encrypted_content"));
  EXPECT_EQ(decode_reasoning(r["encrypted_content"].get<std::string>()), "step one");
  EXPECT_FALSE(w.items()[1].contains("encrypted_content"));
  ResponseOutputWriter plain;
  plain.on_events({output_ev(K::kReasoning, "x")});
  plain.finish(false);
  EXPECT_FALSE(plain.items()[0].contains("encrypted_content"));
}

TEST(ResponsesOutputTest, UsageShape) {
  RequestStats s;
  s.num_prompt_tokens = 10;
  s.num_cached_tokens = 4;
  s.num_output_tokens = 6;
  EXPECT_EQ(responses_usage(s, 2), Json::parse(R"({"input_tokens": 10,
      "input_tokens_details": {"cached_tokens": 4}, "output_tokens": 6,
      "output_tokens_details": {"reasoning_tokens": 2}, "total_tokens": 16})"));
}

StoredResponse entry(size_t filler) {
  return StoredResponse{Json{{"f", std::string(filler, 'x')}}, Json::array()};
}

TEST(ResponseStoreTest, EvictsTheLeastRecentlyUsedByCountAndBytes) {
  ResponseStore store;
  const ResponseStoreLimits two{2, 1 << 20};
  store.put("a", entry(1), two);
  store.put("b", entry(1), two);
  EXPECT_TRUE(store.get("a"));  // a is now the most recent
  store.put("c", entry(1), two);
  EXPECT_TRUE(store.get("a"));
  EXPECT_FALSE(store.get("b"));
  EXPECT_TRUE(store.get("c"));

  const ResponseStoreLimits small{100, 300};
  ResponseStore bytes;
  bytes.put("a", entry(100), small);
  bytes.put("b", entry(100), small);
  bytes.put("c", entry(100), small);  // over 300 bytes: a goes
  EXPECT_FALSE(bytes.get("a"));
  EXPECT_TRUE(bytes.get("b"));
  EXPECT_LE(bytes.bytes(), 300u);
  EXPECT_FALSE(bytes.put("huge", entry(1000), small));
  EXPECT_EQ(bytes.size(), 2u);
  EXPECT_TRUE(bytes.erase("b"));
  EXPECT_FALSE(bytes.erase("b"));
  EXPECT_EQ(bytes.size(), 1u);
}

}  // namespace
}  // namespace sluice::api
