#include "tokenizer/encoder_input.h"

#include <algorithm>
#include <utility>

namespace sluice {

void truncate_longest_first(std::vector<int32_t>* a, std::vector<int32_t>* b, size_t max_total) {
  if (!b) {
    if (a->size() > max_total) a->resize(max_total);
    return;
  }
  if (a->size() + b->size() <= max_total) return;
  size_t n1 = a->size(), n2 = b->size();
  const bool swapped = n1 > n2;  // n1: the shorter one
  if (swapped) std::swap(n1, n2);
  n2 = n1 > max_total ? n1 : std::max(n1, max_total - n1);
  if (n1 + n2 > max_total) {
    n1 = max_total / 2;
    n2 = n1 + max_total % 2;
  }
  if (swapped) std::swap(n1, n2);
  a->resize(std::min(a->size(), n1));
  b->resize(std::min(b->size(), n2));
}

Result<Encoding> encode_for_encoder(const Tokenizer& tok, std::string_view text_a,
                                    const std::string_view* text_b,
                                    const EncoderInputOptions& opts) {
  const EncodeOptions enc{/*add_special=*/false, opts.parse_special};
  std::vector<int32_t> a = tok.encode(text_a, enc), b;
  if (text_b) b = tok.encode(*text_b, enc);
  if (opts.max_length > 0) {
    const size_t specials = tok.num_special_tokens(text_b != nullptr);
    if (opts.max_length < specials) {
      return Status::error("tokenizer", "max length " + std::to_string(opts.max_length) +
                                            " is shorter than its " + std::to_string(specials) +
                                            " special tokens");
    }
    truncate_longest_first(&a, text_b ? &b : nullptr, opts.max_length - specials);
  }
  return tok.add_special_tokens(a, text_b ? &b : nullptr);
}

}  // namespace sluice
