#pragma once
// Shared helpers for the structured tests: a one-byte-per-token vocabulary, acceptance checks.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "structured/grammar.h"
#include "structured/grammar_matcher.h"

namespace sluice::structured {

// Tokens 0..255 are the single bytes; token 256 ends generation.
inline std::shared_ptr<const TokenVocab> byte_vocab() {
  static const auto v = [] {
    std::vector<std::string> bytes;
    for (int b = 0; b < 256; ++b) bytes.push_back(std::string(1, char(b)));
    bytes.push_back("<eos>");
    return TokenVocab::from_bytes(std::move(bytes), {256});
  }();
  return v;
}

inline bool mask_has(const std::vector<uint32_t>& mask, int32_t id) {
  return (mask[id >> 5] >> (id & 31)) & 1u;
}

// Feeds `text` one byte per token; true when every byte is accepted and the match can finish.
// Also checks that the mask agrees with accept() at every step.
inline bool byte_accepts(const std::shared_ptr<const Grammar>& g, const std::string& text) {
  auto vocab = byte_vocab();
  GrammarMatcher m(g, vocab);
  std::vector<uint32_t> mask((vocab->size() + 31) / 32);
  for (char c : text) {
    const int32_t tok = static_cast<uint8_t>(c);
    m.fill_mask(mask);
    const bool in_mask = mask_has(mask, tok);
    auto copy = m.clone();
    const bool ok = m.accept(tok);
    EXPECT_EQ(in_mask, ok) << "mask and accept disagree at byte " << int(tok) << " of " << text;
    if (!ok) return false;
  }
  m.fill_mask(mask);
  EXPECT_EQ(mask_has(mask, 256), m.can_finish());
  return m.can_finish();
}

}  // namespace sluice::structured
