// Formats that predate the template round trips, checked the same way: Mistral's [TOOL_CALLS]
// NAME[ARGS] form (Small 3.2 with call ids, Ministral 3) and Llama 3.1 / 3.3 JSON calls, rendered
// by their real templates and parsed back token by token and byte by byte.
#include "template_round_trip.h"

#include <gtest/gtest.h>

namespace sluice::parsers::testing {
namespace {

OJson call_with_id(const std::string& id, const std::string& name, const std::string& args) {
  OJson call = template_call(name, args);
  call["id"] = id;
  return call;
}

OJson two_calls_with_ids() {
  return OJson::array(
      {call_with_id("a1b2c3d4e", "get_weather", R"({"city": "Paris", "unit": "celsius"})"),
       call_with_id("f5g6h7i8j", "search",
                    R"({"query": "ünïcode [ARGS] \"q\"", "max_results": 3, "safe": true})")});
}

TEST(MistralTemplate, Small32CallsWithIds) {
  expect_template_round_trip(
      {"Mistral-Small-3.2-24B-Instruct-2506.jinja", "", ""}, "mistral", weather_and_search_tools(),
      {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", two_calls_with_ids()}}, "");
}

TEST(MistralTemplate, Ministral3ContentThenCalls) {
  expect_template_round_trip({"mistralai-Ministral-3-14B-Reasoning-2512.jinja", "", ""}, "mistral",
                             weather_and_search_tools(),
                             {{"role", "assistant"},
                              {"content", "Let me look that up."},
                              {"tool_calls", two_calls_with_ids()}},
                             "Let me look that up.");
}

TEST(LlamaTemplate, JsonCallOfEveryLlama3Template) {
  OJson call = template_call("search", R"({"query": "ünïcode \"q\"", "max_results": 3})");
  for (const char* file :
       {"meta-llama-Llama-3.1-8B-Instruct.jinja", "meta-llama-Llama-3.3-70B-Instruct.jinja",
        "meta-llama-Llama-3.2-3B-Instruct.jinja"}) {
    SCOPED_TRACE(file);
    expect_template_round_trip(
        {file, "<|start_header_id|>assistant<|end_header_id|>\n\n", "<|eot_id|>"}, "llama3_json",
        weather_and_search_tools(),
        {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", OJson::array({call})}}, "");
  }
}

}  // namespace
}  // namespace sluice::parsers::testing
