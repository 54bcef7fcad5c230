// StopStringMatcher: whatever the split of the text into pushes, the emitted text and the matched
// stop are those of the whole text (the first stop to complete wins), and no byte of a stop
// string is ever emitted.
#include "engine/stop_strings.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace sluice {
namespace {

struct Outcome {
  std::string text;  // everything returned by push() and flush()
  bool stopped = false;
  std::string matched;
  bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << "{\"" << o.text << "\", " << o.stopped << ", \"" << o.matched << "\"}";
}

// Pushes `pieces`; checks on the way that the emitted text only grows as a prefix of `whole`.
Outcome feed(const std::vector<std::string>& stops, const std::vector<std::string>& pieces) {
  StopStringMatcher m(stops);
  Outcome o;
  for (const std::string& p : pieces) {
    o.text += m.push(p);
    if (m.stopped()) break;
  }
  if (!m.stopped()) o.text += m.flush();
  o.stopped = m.stopped();
  o.matched = m.matched();
  return o;
}

// Reference on the whole text: the first end position where some stop completes; among the
// stops completing there, the longest.
Outcome reference(const std::vector<std::string>& stops, const std::string& text) {
  for (size_t end = 1; end <= text.size(); ++end) {
    const std::string* best = nullptr;
    for (const std::string& s : stops) {
      if (s.empty() || s.size() > end || text.compare(end - s.size(), s.size(), s) != 0) continue;
      if (best == nullptr || s.size() > best->size()) best = &s;
    }
    if (best != nullptr) return {text.substr(0, end - best->size()), true, *best};
  }
  return {text, false, ""};
}

std::vector<std::string> bytes(const std::string& s) {
  std::vector<std::string> v;
  for (char c : s) v.emplace_back(1, c);
  return v;
}

// Every split into two and three pieces, plus byte by byte, matches the whole-text result.
void expect_split_invariant(const std::vector<std::string>& stops, const std::string& text,
                            const Outcome& want) {
  EXPECT_EQ(reference(stops, text), want) << text;
  EXPECT_EQ(feed(stops, {text}), want) << text;
  EXPECT_EQ(feed(stops, bytes(text)), want) << text;
  for (size_t i = 0; i <= text.size(); ++i) {
    EXPECT_EQ(feed(stops, {text.substr(0, i), text.substr(i)}), want) << text << " @" << i;
    for (size_t j = i; j <= text.size(); ++j) {
      EXPECT_EQ(feed(stops, {text.substr(0, i), text.substr(i, j - i), text.substr(j)}), want)
          << text << " @" << i << "," << j;
    }
  }
}

TEST(StopStringsTest, SinglePush) {
  StopStringMatcher m({"STOP"});
  EXPECT_EQ(m.push("Hello STOP world"), "Hello ");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.matched(), "STOP");
  EXPECT_EQ(m.push("more"), "");
  EXPECT_EQ(m.flush(), "");
}

TEST(StopStringsTest, HoldsBackAPossibleStart) {
  StopStringMatcher m({"STOP"});
  EXPECT_EQ(m.push("Hello ST"), "Hello ");
  EXPECT_FALSE(m.stopped());
  EXPECT_EQ(m.push("A"), "STA");
  EXPECT_EQ(m.push("S"), "");
  EXPECT_EQ(m.push("TO"), "");
  EXPECT_EQ(m.push("P!"), "");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.matched(), "STOP");
}

TEST(StopStringsTest, EverySplitPoint) {
  expect_split_invariant({"STOP"}, "Hello STOP world", {"Hello ", true, "STOP"});
  expect_split_invariant({"STOP"}, "STOP", {"", true, "STOP"});
  expect_split_invariant({"\n\n"}, "line one\nline two\n\nrest",
                         {"line one\nline two", true, "\n\n"});
}

TEST(StopStringsTest, OnePrefixOfAnother) {
  // Both start at the same place; the shorter completes first, in any order of the list.
  expect_split_invariant({"abc", "ab"}, "xxabcd", {"xx", true, "ab"});
  expect_split_invariant({"ab", "abc"}, "xxabcd", {"xx", true, "ab"});
  // The earliest match in the text wins, whatever the list order.
  expect_split_invariant({"world", "hello"}, "say hello world", {"say ", true, "hello"});
  // Same end: the longer (earlier-starting) stop wins.
  expect_split_invariant({"bc", "abc"}, "xabcx", {"x", true, "abc"});
  // A stop that completes first wins over a longer one that started earlier.
  expect_split_invariant({"abcd", "bc"}, "xabcd", {"xa", true, "bc"});
}

TEST(StopStringsTest, OverlappingPartialMatches) {
  expect_split_invariant({"abcabd"}, "abcabcabd", {"abc", true, "abcabd"});
  expect_split_invariant({"aab"}, "aaaab!", {"aa", true, "aab"});
  expect_split_invariant({"abab"}, "abababab", {"", true, "abab"});
  StopStringMatcher m({"abcabd"});
  EXPECT_EQ(m.push("abcab"), "");
  EXPECT_EQ(m.push("c"), "abc");  // "abc" could still start the stop string
  EXPECT_EQ(m.push("abd"), "");
  EXPECT_TRUE(m.stopped());
}

TEST(StopStringsTest, NoMatchFlushesTheRest) {
  expect_split_invariant({"wor!"}, "hello world", {"hello world", false, ""});
  StopStringMatcher m({"wor!"});
  EXPECT_EQ(m.push("hello wo"), "hello ");
  EXPECT_EQ(m.flush(), "wo");
  EXPECT_FALSE(m.stopped());
  EXPECT_EQ(m.matched(), "");
  StopStringMatcher none({});
  EXPECT_EQ(none.push("abc"), "abc");
  EXPECT_EQ(none.flush(), "");
  StopStringMatcher empty_stop({""});  // ignored, never matches
  EXPECT_EQ(empty_stop.push("abc"), "abc");
  EXPECT_FALSE(empty_stop.stopped());
}

bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t len = c < 0x80         ? 1
                       : (c >> 5) == 6  ? 2
                       : (c >> 4) == 14 ? 3
                       : (c >> 3) == 30 ? 4
                                        : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

// Splits UTF-8 text into whole characters.
std::vector<std::string> chars(const std::string& s) {
  std::vector<std::string> v;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) {
      v.back() += s[i];
    } else {
      v.emplace_back(1, s[i]);
    }
  }
  return v;
}

TEST(StopStringsTest, Utf8) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"停止"}, "你好停止世界"},
      {{"你们"}, "你好，你们好"},  // shares the first character, then the lead byte of 好
      {{"é!"}, "café au lait é!"},
      {{"🙂🙃"}, "a🙂b🙂🙂🙃c"},
      {{"好。"}, "好好好好"},  // no match: held back to the last character, then flushed
  };
  for (const auto& [stops, text] : cases) {
    const Outcome want = reference(stops, text);
    expect_split_invariant(stops, text, want);
    StopStringMatcher m(stops);
    std::string all;
    for (const std::string& c : chars(text)) {
      const std::string out = m.push(c);
      EXPECT_TRUE(valid_utf8(out)) << text;
      all += out;
      if (m.stopped()) break;
    }
    if (!m.stopped()) {
      const std::string rest = m.flush();
      EXPECT_TRUE(valid_utf8(rest));
      all += rest;
    }
    EXPECT_EQ(all, want.text);
  }
  EXPECT_EQ(reference({"停止"}, "你好停止世界").text, "你好");
}

TEST(StopStringsTest, RandomTextsAndSplits) {
  std::mt19937 rng(17);
  auto word = [&](size_t max_len) {
    std::string s(1 + rng() % max_len, 'a');
    for (char& c : s) c = static_cast<char>('a' + rng() % 3);
    return s;
  };
  for (int iter = 0; iter < 2000; ++iter) {
    std::vector<std::string> stops;
    for (int k = 0, n = 1 + rng() % 3; k < n; ++k) stops.push_back(word(5));
    const std::string text = word(24);
    std::vector<std::string> pieces;
    for (size_t i = 0; i < text.size();) {
      const size_t len = rng() % 5;  // empty pushes included
      pieces.push_back(text.substr(i, len));
      i += len;
    }
    EXPECT_EQ(feed(stops, pieces), reference(stops, text)) << text;
  }
}

}  // namespace
}  // namespace sluice
