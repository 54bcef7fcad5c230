#pragma once
// Helpers for the parser tests: model-like token streams from the real tokenizers, event merging,
// and the split property (every way of chunking a stream gives the non-streamed parse).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "parsers/reasoning_parser.h"
#include "parsers/tool_parser.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace sluice::parsers::testing {

struct ReasoningResult {
  std::string reasoning, content;
  bool operator==(const ReasoningResult&) const = default;
};

inline std::string testdata_dir() {
  if (const char* env = std::getenv("SLUICE_TESTDATA")) return env;
  return std::string(SLUICE_SOURCE_DIR) + "/../shared/testdata";
}

inline const Tokenizer& tokenizer(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto& slot = cache[name];
  if (!slot) {
    auto r = load_tokenizer_for(testdata_dir() + "/tokenizers/" + name + "/tokenizer.json");
    SLUICE_ASSERT(r.ok(), r.error().c_str());
    slot = std::move(r.value());
  }
  return *slot;
}

inline std::vector<std::string> token_pieces(const std::string& tokenizer_name,
                                             const std::string& text) {
  const Tokenizer& tok = tokenizer(tokenizer_name);
  EncodeOptions opts;
  opts.parse_special = true;
  StreamingDetokenizer detok(tok, /*skip_special=*/false);
  std::vector<std::string> pieces;
  std::string joined;
  for (int32_t id : tok.encode(text, opts)) {
    pieces.push_back(detok.push(id));
    joined += pieces.back();
  }
  pieces.push_back(detok.flush());
  joined += pieces.back();
  EXPECT_EQ(joined, text) << "the tokenizer does not round-trip this test text";
  return pieces;
}

inline std::vector<ParseEvent> merge(const std::vector<ParseEvent>& events) {
  std::vector<ParseEvent> out;
  for (const ParseEvent& e : events) {
    bool delta = e.kind == ParseEvent::Kind::kContent ||
                 e.kind == ParseEvent::Kind::kToolArguments ||
                 e.kind == ParseEvent::Kind::kReasoning;
    if (delta && e.text.empty()) continue;
    if (delta && !out.empty() && out.back().kind == e.kind && out.back().index == e.index) {
      out.back().text += e.text;
      continue;
    }
    out.push_back(e);
  }
  return out;
}

inline std::string describe(const std::vector<ParseEvent>& events) {
  static const char* kNames[] = {"content", "begin", "args", "end", "reasoning"};
  std::string s;
  for (const ParseEvent& e : events) {
    s += std::string(kNames[static_cast<int>(e.kind)]) + "[" + std::to_string(e.index) + "]";
    if (!e.name.empty()) s += " name=" + e.name;
    if (!e.text.empty()) s += " text=" + e.text;
    s += "\n";
  }
  return s;
}

inline std::vector<std::vector<std::string>> chunkings(const std::vector<std::string>& pieces,
                                                       uint32_t seed) {
  std::vector<std::vector<std::string>> out;
  const size_t gaps = pieces.empty() ? 0 : pieces.size() - 1;
  auto group = [&](auto cut_after) {  // cut_after(i): a chunk ends after piece i
    std::vector<std::string> chunks(1);
    for (size_t i = 0; i < pieces.size(); ++i) {
      chunks.back() += pieces[i];
      if (i + 1 < pieces.size() && cut_after(i)) chunks.emplace_back();
    }
    out.push_back(std::move(chunks));
  };
  std::mt19937 rng(seed);
#if defined(__SANITIZE_ADDRESS__)  // the sanitizer build runs ~20x slower: fewer splits
  const size_t max_exhaustive_gaps = 10, num_random = 300, num_byte_splits = 100;
#else
  const size_t max_exhaustive_gaps = 12, num_random = 1500, num_byte_splits = 300;
#endif
  if (gaps <= max_exhaustive_gaps) {
    for (uint32_t mask = 0; mask < (1u << gaps); ++mask) {
      group([mask](size_t i) { return (mask >> i) & 1; });
    }
  } else {
    for (size_t n = 0; n < num_random; ++n) {
      double p = std::uniform_real_distribution<double>(0.05, 0.95)(rng);
      group([&](size_t) { return std::bernoulli_distribution(p)(rng); });
    }
    group([](size_t) { return true; });  // token by token
  }
  std::string text;
  for (const auto& p : pieces) text += p;
  for (size_t n = 0; n < num_byte_splits && !text.empty(); ++n) {  // byte-level splits
    std::vector<std::string> chunks;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t len = std::uniform_int_distribution<size_t>(1, n % 3 == 0 ? 3 : 12)(rng);
      chunks.push_back(text.substr(pos, len));
      pos += len;
    }
    out.push_back(std::move(chunks));
  }
  std::vector<std::string> bytes;
  for (char c : text) bytes.emplace_back(1, c);
  out.push_back(std::move(bytes));
  return out;
}

inline std::vector<ParseEvent> run_tool_parser(const ToolFormat& format, const ToolSpec& tools,
                                               const std::vector<std::string>& chunks) {
  auto parser = format.make_parser(tools);
  std::vector<ParseEvent> events;
  for (const std::string& c : chunks) parser->feed(c, events);
  parser->finish(events);
  return events;
}

inline bool valid_utf8(const std::string& s) {
  return utf8::sanitize(s) == s;
}

inline ParsedOutput expect_split_invariant(const ToolFormat& format, const ToolSpec& tools,
                                           const std::vector<std::string>& pieces) {
  std::string text;
  for (const auto& p : pieces) text += p;
  const std::vector<ParseEvent> expected = merge(run_tool_parser(format, tools, {text}));
  int failures = 0;
  for (const auto& chunks : chunkings(pieces, 1234)) {
    std::vector<ParseEvent> events = run_tool_parser(format, tools, chunks);
    for (const ParseEvent& e : events) {
      if (valid_utf8(text) && !valid_utf8(e.text)) {
        ADD_FAILURE() << "an event splits a UTF-8 character: " << e.text;
        ++failures;
      }
    }
    std::vector<ParseEvent> got = merge(events);
    if (describe(got) != describe(expected)) {
      std::string split;
      for (const auto& c : chunks) split += "|" + c;
      ADD_FAILURE() << "split " << split << "\nexpected:\n"
                    << describe(expected) << "got:\n"
                    << describe(got);
      ++failures;
    }
    if (failures > 3) break;
  }
  auto parser = format.make_parser(tools);
  return parse_all(*parser, text);
}

inline ReasoningResult run_reasoning(const ReasoningTags& tags, bool starts_in_reasoning,
                                     const std::vector<std::string>& chunks) {
  ReasoningParser parser(tags.open, tags.close, starts_in_reasoning);
  ReasoningResult r;
  auto add = [&](const ReasoningDelta& d) {
    EXPECT_TRUE(valid_utf8(d.reasoning) && valid_utf8(d.content)) << "split UTF-8 character";
    r.reasoning += d.reasoning;
    r.content += d.content;
  };
  for (const std::string& c : chunks) add(parser.feed(c));
  add(parser.finish());
  return r;
}

inline ReasoningResult expect_reasoning_split_invariant(const ReasoningTags& tags,
                                                        bool starts_in_reasoning,
                                                        const std::vector<std::string>& pieces) {
  std::string text;
  for (const auto& p : pieces) text += p;
  const ReasoningResult expected = run_reasoning(tags, starts_in_reasoning, {text});
  int failures = 0;
  for (const auto& chunks : chunkings(pieces, 99)) {
    ReasoningResult got = run_reasoning(tags, starts_in_reasoning, chunks);
    if (!(got == expected)) {
      std::string split;
      for (const auto& c : chunks) split += "|" + c;
      ADD_FAILURE() << "split " << split << "\nexpected reasoning=" << expected.reasoning
                    << " content=" << expected.content << "\ngot reasoning=" << got.reasoning
                    << " content=" << got.content;
      if (++failures > 3) break;
    }
  }
  return expected;
}

// One recorded output and what it must parse to.
struct ToolCase {
  std::string name;
  std::string text;
  std::string content;
  std::vector<ToolCall> calls;
};
inline void PrintTo(const ToolCase& c, std::ostream* os) {
  *os << c.name;
}

// The split property on the tokenized text, then the expected content and calls.
inline void check_tool_case(const std::string& format_name, const std::string& tokenizer_name,
                            const ToolSpec& tools, const ToolCase& c) {
  auto format = make_tool_format(format_name);
  ASSERT_NE(format, nullptr);
  ParsedOutput out = expect_split_invariant(*format, tools, token_pieces(tokenizer_name, c.text));
  EXPECT_EQ(out.content, c.content);
  ASSERT_EQ(out.calls.size(), c.calls.size());
  for (size_t i = 0; i < c.calls.size(); ++i) {
    EXPECT_EQ(out.calls[i].name, c.calls[i].name);
    EXPECT_EQ(out.calls[i].arguments, c.calls[i].arguments);
  }
}

inline ToolSpec weather_and_search_tools() {
  ToolSpec spec;
  spec.functions = nlohmann::ordered_json::parse(R"([
    {"name": "get_weather", "description": "Current weather",
     "parameters": {"type": "object",
                    "properties": {"city": {"type": "string"},
                                   "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                    "required": ["city"]}},
    {"name": "search", "description": "Web search",
     "parameters": {"type": "object",
                    "properties": {"query": {"type": "string"},
                                   "max_results": {"type": "integer"},
                                   "safe": {"type": "boolean"},
                                   "filters": {"type": "object"}},
                    "required": ["query"]}}
  ])");
  return spec;
}

}  // namespace sluice::parsers::testing
