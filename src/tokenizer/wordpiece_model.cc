#include "tokenizer/wordpiece_model.h"

#include <algorithm>
#include <optional>

#include "tokenizer/utf8.h"

namespace sluice {

void WordPieceModel::encode_word(const Vocab& vocab, std::string_view word,
                                 std::vector<int32_t>* out) const {
  // Character boundaries: bounds[i] is the byte offset of character i (bounds.back() == size).
  std::vector<size_t> bounds;
  for (size_t pos = 0; pos < word.size();) {
    bounds.push_back(pos);
    pos += std::max<size_t>(1, utf8::seq_len(static_cast<uint8_t>(word[pos])));
    if (pos > word.size()) pos = word.size();
  }
  const size_t num_chars = bounds.size();
  bounds.push_back(word.size());
  if (num_chars > max_input_chars_per_word) {
    out->push_back(unk_id);
    return;
  }
  const size_t first_out = out->size();
  std::string candidate;
  for (size_t start = 0; start < num_chars;) {
    size_t end = num_chars;
    for (; end > start; --end) {
      const std::string_view piece = word.substr(bounds[start], bounds[end] - bounds[start]);
      std::optional<int32_t> id;
      if (start == 0) {
        id = vocab.find(piece);
      } else {
        candidate.assign(continuing_subword_prefix);
        candidate.append(piece);
        id = vocab.find(candidate);
      }
      if (id) {
        out->push_back(*id);
        break;
      }
    }
    if (end == start) {  // no piece starts here: the whole word is unknown
      out->resize(first_out);
      out->push_back(unk_id);
      return;
    }
    start = end;
  }
}

}  // namespace sluice
