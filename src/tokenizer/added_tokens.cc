#include "tokenizer/added_tokens.h"

#include <algorithm>

namespace sluice {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
// Word characters for single_word: ASCII alphanumerics, '_' and any non-ASCII byte.
bool is_word_byte(char c) {
  const auto u = static_cast<uint8_t>(c);
  return u >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         c == '_';
}

}  // namespace

void AddedTokenMatcher::add(const AddedToken& token) {
  if (token.content.empty()) return;
  tokens_.push_back(token);
  auto& bucket = by_first_byte_[static_cast<uint8_t>(token.content[0])];
  bucket.push_back(static_cast<int32_t>(tokens_.size() - 1));
  std::stable_sort(bucket.begin(), bucket.end(), [&](int32_t a, int32_t b) {
    return tokens_[a].content.size() > tokens_[b].content.size();
  });
}

void AddedTokenMatcher::split(std::string_view text, bool parse_special, bool normalized,
                              std::vector<Segment>* out) const {
  size_t text_start = 0;  // start of the pending plain-text run
  size_t pos = 0;
  while (pos < text.size()) {
    const AddedToken* hit = nullptr;
    for (int32_t idx : by_first_byte_[static_cast<uint8_t>(text[pos])]) {
      const AddedToken& t = tokens_[idx];
      if (t.normalized != normalized || (t.special && !parse_special)) continue;
      if (text.compare(pos, t.content.size(), t.content) != 0) continue;
      if (t.single_word) {
        const size_t end = pos + t.content.size();
        if ((pos > 0 && is_word_byte(text[pos - 1])) ||
            (end < text.size() && is_word_byte(text[end]))) {
          continue;
        }
      }
      hit = &t;
      break;
    }
    if (!hit) {
      ++pos;
      continue;
    }
    size_t begin = pos, end = pos + hit->content.size();
    if (hit->lstrip)
      while (begin > text_start && is_space(text[begin - 1])) --begin;
    if (hit->rstrip)
      while (end < text.size() && is_space(text[end])) ++end;
    if (begin > text_start)
      out->push_back({std::string(text.substr(text_start, begin - text_start)), -1});
    out->push_back({std::string(), hit->id});
    pos = text_start = end;
  }
  if (text_start < text.size()) out->push_back({std::string(text.substr(text_start)), -1});
}

}  // namespace sluice
