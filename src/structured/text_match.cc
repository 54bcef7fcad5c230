#include "structured/text_match.h"

#include "structured/grammar_matcher.h"

namespace sluice::structured {

namespace {

// Tokens 0..255 are the single bytes; 256 ends the text.
std::shared_ptr<const TokenVocab> byte_tokens() {
  static const auto vocab = [] {
    std::vector<std::string> bytes;
    for (int b = 0; b < 256; ++b) bytes.push_back(std::string(1, static_cast<char>(b)));
    bytes.push_back("<end>");
    return TokenVocab::from_bytes(std::move(bytes), {256});
  }();
  return vocab;
}

}  // namespace

bool grammar_matches(const std::shared_ptr<const Grammar>& grammar, std::string_view text) {
  GrammarMatcher m(grammar, byte_tokens());
  for (char c : text)
    if (!m.accept(static_cast<uint8_t>(c))) return false;
  return m.can_finish();
}

}  // namespace sluice::structured
