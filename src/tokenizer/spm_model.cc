#include "tokenizer/spm_model.h"

#include <queue>

#include "tokenizer/utf8.h"

namespace sluice {

SpmModel::SpmModel(const Vocab& vocab, std::vector<float> scores, std::optional<int32_t> unk_id)
    : vocab_(vocab), scores_(std::move(scores)), unk_id_(unk_id) {
  static const char* kHex = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    const std::string text = std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">";
    auto id = vocab.find(text);
    if (!id) id = vocab.find(std::string(1, static_cast<char>(b)));
    byte_ids_[b] = id ? *id : -1;
  }
}

void SpmModel::encode(std::string_view text, std::vector<int32_t>* out) const {
  struct Symbol {
    size_t begin, len;  // byte range in text; len 0 once merged away
    int32_t prev, next;
  };
  std::vector<Symbol> syms;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t n = std::min(utf8::seq_len(static_cast<uint8_t>(text[pos])), text.size() - pos);
    const int32_t i = static_cast<int32_t>(syms.size());
    syms.push_back({pos, n, i - 1, pos + n < text.size() ? i + 1 : -1});
    pos += n;
  }

  struct Bigram {
    float score;
    int32_t left, right;
    size_t len;
  };
  auto worse = [](const Bigram& a, const Bigram& b) {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  };
  std::priority_queue<Bigram, std::vector<Bigram>, decltype(worse)> queue(worse);
  auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const size_t len = syms[left].len + syms[right].len;
    auto id = vocab_.find(text.substr(syms[left].begin, len));
    if (!id || static_cast<size_t>(*id) >= scores_.size()) return;
    queue.push({scores_[static_cast<size_t>(*id)], left, right, len});
  };
  for (int32_t i = 1; i < static_cast<int32_t>(syms.size()); ++i) try_add(i - 1, i);

  while (!queue.empty()) {
    const Bigram bg = queue.top();
    queue.pop();
    Symbol& l = syms[bg.left];
    Symbol& r = syms[bg.right];
    if (l.len == 0 || r.len == 0 || l.len + r.len != bg.len) continue;  // stale
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) syms[r.next].prev = bg.left;
    try_add(l.prev, bg.left);
    try_add(bg.left, l.next);
  }

  for (int32_t i = syms.empty() ? -1 : 0; i >= 0; i = syms[i].next) {
    const std::string_view piece = text.substr(syms[i].begin, syms[i].len);
    if (auto id = vocab_.find(piece)) {
      out->push_back(*id);
      continue;
    }
    for (char c : piece) {
      const int32_t b = byte_ids_[static_cast<uint8_t>(c)];
      if (b >= 0) {
        out->push_back(b);
      } else if (unk_id_) {
        out->push_back(*unk_id_);
      }
    }
  }
}

}  // namespace sluice
