#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace sluice {

StreamingDetokenizer::StreamingDetokenizer(const Tokenizer& tok, bool skip_special)
    : tok_(tok), skip_special_(skip_special) {}

std::string StreamingDetokenizer::push(int32_t id) {
  if (skip_special_ && tok_.is_special(id)) return std::string();
  std::string piece = tok_.token_bytes(id, skip_special_);
  if (first_) {
    // Same rule as Tokenizer::decode: the first token loses its leading space(s).
    const size_t limit = static_cast<size_t>(tok_.leading_spaces_to_strip());
    size_t n = 0;
    while (n < piece.size() && n < limit && piece[n] == ' ') ++n;
    piece.erase(0, n);
    first_ = false;
  }
  pending_ += piece;
  const size_t ready = utf8::complete_prefix(pending_);
  if (ready == 0) return std::string();
  std::string out = utf8::sanitize(std::string_view(pending_).substr(0, ready));
  pending_.erase(0, ready);
  return out;
}

std::string StreamingDetokenizer::flush() {
  std::string out = utf8::sanitize(pending_);
  pending_.clear();
  return out;
}

}  // namespace sluice
