// Parser cost is O(new bytes) per feed: an 8x longer output fed in the same small chunks takes
// about 8x the time (a parser that rescans what it holds would take about 64x; the bound, 24x,
// leaves room for cache effects and a busy machine).
#include <gtest/gtest.h>

#include <chrono>
#include <functional>

#include "parser_test_util.h"

namespace sluice::parsers::testing {
namespace {

double seconds_to_feed(const std::string& text, const std::function<void(std::string_view)>& feed) {
  double best = 1e9;
  for (int run = 0; run < 5; ++run) {
    auto start = std::chrono::steady_clock::now();
    for (size_t pos = 0; pos < text.size(); pos += 3) feed(std::string_view(text).substr(pos, 3));
    best = std::min(
        best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

// make(n): an output whose long parts are about n bytes.
void expect_linear(const std::string& format_name, const std::function<std::string(size_t)>& make) {
  auto format = make_tool_format(format_name);
  auto time_for = [&](size_t n) {
    std::string text = make(n);
    std::unique_ptr<ToolParser> parser;
    std::vector<ParseEvent> events;
    return seconds_to_feed(text, [&](std::string_view chunk) {
      if (chunk.data() == text.data()) parser = format->make_parser(weather_and_search_tools());
      events.clear();
      parser->feed(chunk, events);
    });
  };
  double small = time_for(50000), large = time_for(400000);
  EXPECT_LT(large / small, 24.0) << format_name << ": " << small << " s vs " << large << " s";
}

std::string repeated(const std::string& unit, size_t n) {
  std::string s;
  while (s.size() < n) s += unit;
  return s;
}

TEST(ParserCost, LinearInOutputLength) {
  expect_linear("hermes", [](size_t n) {
    return repeated("text <b> ", n) + repeated("\n", n) + "<tool_call>\n{\"name\": \"search\", " +
           "\"arguments\": {\"query\": \"" + repeated("y<tool_call>", n) + "\"}}\n</tool_call>";
  });
  expect_linear("qwen3_coder", [](size_t n) {
    return repeated("a < b ", n) + "<tool_call>\n<function=search>\n<parameter=query>\n" +
           repeated("code </param\n", n) + "\n</parameter>\n<parameter=filters>\n{\"a\": \"" +
           repeated("z", n) + "\"}\n</parameter>\n</function>\n</tool_call>";
  });
  expect_linear("llama3_json", [](size_t n) {
    return repeated(" ", n) + "{\"name\": \"search\", \"parameters\": {\"query\": \"" +
           repeated("q", n) + "\"}}";
  });
  expect_linear("mistral", [](size_t n) {
    return repeated("[TOOL] ", n) + "[TOOL_CALLS]search[ARGS]{\"query\": \"" + repeated("m", n) +
           "\"}";
  });
  expect_linear("pythonic", [](size_t n) {
    return repeated("text [1] x[", n) + "[search(query=\"" + repeated("q\\\"[(", n) +
           "\", filters={'a': [" + repeated("1, ", n) + "]})]";
  });
  expect_linear("json", [](size_t n) {
    return "[{\"name\": \"search\", \"arguments\": {\"query\": \"" + repeated("j", n) + "\"}}]" +
           repeated(" after", n);
  });
}

TEST(ParserCost, ReasoningLinearInOutputLength) {
  auto time_for = [](size_t n) {
    std::string text = "<think>" + repeated("why </thin ", n) + repeated("\n", n) + "</think>" +
                       repeated("answer ", n);
    std::unique_ptr<ReasoningParser> parser;
    return seconds_to_feed(text, [&](std::string_view chunk) {
      if (chunk.data() == text.data())
        parser = std::make_unique<ReasoningParser>("<think>", "</think>", false);
      parser->feed(chunk);
    });
  };
  double small = time_for(50000), large = time_for(400000);
  EXPECT_LT(large / small, 24.0) << small << " s vs " << large << " s";
}

}  // namespace
}  // namespace sluice::parsers::testing
