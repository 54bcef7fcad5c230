#include <algorithm>
#include <numeric>

#include "structured/grammar_matcher.h"
#include "tokenizer/tokenizer.h"

namespace sluice::structured {

std::shared_ptr<const TokenVocab> TokenVocab::build(const Tokenizer& tok) {
  const int32_t n = tok.vocab_size();
  std::vector<std::string> bytes(n);
  for (int32_t id = 0; id < n; ++id) bytes[id] = tok.token_bytes(id, /*skip_special=*/false);
  return from_bytes(std::move(bytes), tok.eog_ids());
}

std::shared_ptr<const TokenVocab> TokenVocab::from_bytes(std::vector<std::string> bytes_by_id,
                                                         std::vector<int32_t> eog_ids) {
  auto v = std::make_shared<TokenVocab>();
  v->bytes_by_id_ = std::move(bytes_by_id);
  v->is_eog_.assign(v->bytes_by_id_.size(), 0);
  for (int32_t id : eog_ids)
    if (id >= 0 && id < v->size() && !v->is_eog_[id]) {
      v->is_eog_[id] = 1;
      v->eog_ids_.push_back(id);
    }
  v->index();
  return v;
}

void TokenVocab::index() {
  for (int32_t id = 0; id < size(); ++id)
    if (!is_eog_[id] && !bytes_by_id_[id].empty()) sorted_ids_.push_back(id);
  std::sort(sorted_ids_.begin(), sorted_ids_.end(), [&](int32_t a, int32_t b) {
    return bytes_by_id_[a] != bytes_by_id_[b] ? bytes_by_id_[a] < bytes_by_id_[b] : a < b;
  });
  const int32_t n = num_sorted();
  offsets_.assign(n + 1, 0);
  lcp_.assign(n, 0);
  for (int32_t i = 0; i < n; ++i) {
    const std::string& b = bytes_by_id_[sorted_ids_[i]];
    sorted_bytes_ += b;
    offsets_[i + 1] = static_cast<int32_t>(sorted_bytes_.size());
    if (i > 0) {
      const std::string& p = bytes_by_id_[sorted_ids_[i - 1]];
      size_t l = 0;
      while (l < p.size() && l < b.size() && p[l] == b[l]) ++l;
      lcp_[i] = static_cast<int32_t>(l);
    }
  }
  // subtree_end(i, d) = i + 1 if token i + 1 differs within d bytes, else subtree_end(i + 1, d).
  subtree_end_.assign(sorted_bytes_.size(), n);
  for (int32_t i = n - 1; i >= 0; --i) {
    const int32_t len = offsets_[i + 1] - offsets_[i];
    for (int32_t d = 1; d <= len; ++d) {
      int32_t end = i + 1;
      if (i + 1 < n && lcp_[i + 1] >= d) end = subtree_end_[offsets_[i + 1] + d - 1];
      subtree_end_[offsets_[i] + d - 1] = end;
    }
  }
}

size_t TokenVocab::memory_bytes() const {
  size_t total = sorted_bytes_.size() +
                 (sorted_ids_.size() + offsets_.size() + lcp_.size() + subtree_end_.size()) * 4;
  for (const std::string& b : bytes_by_id_) total += b.size() + sizeof(std::string);
  return total;
}

}  // namespace sluice::structured
