#include "tokenizer/bpe_model.h"

#include <queue>

#include "tokenizer/utf8.h"

namespace sluice {
namespace {

uint64_t pair_key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

std::string byte_token_text(uint8_t b) {
  static const char* kHex = "0123456789ABCDEF";
  return std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">";
}

}  // namespace

Result<std::unique_ptr<BpeModel>> BpeModel::create(
    const Vocab& vocab, const std::vector<std::pair<std::string, std::string>>& merges,
    Options opts, bool strict) {
  std::unique_ptr<BpeModel> m(new BpeModel(vocab));
  m->opts_ = opts;
  m->merges_.reserve(merges.size() * 2);
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    auto ia = vocab.find(a), ib = vocab.find(b);
    if (!ia || !ib) {
      return Status::error("tokenizer", "merge " + std::to_string(rank) + " '" + a + " " + b +
                                            "' references unknown token '" + (ia ? b : a) + "'");
    }
    auto ir = vocab.find(a + b);
    if (!ir) {
      if (strict) {
        return Status::error("tokenizer", "merge " + std::to_string(rank) + " '" + a + " " + b +
                                              "' produces unknown token '" + a + b + "'");
      }
      continue;
    }
    // The first (lowest-ranked) occurrence of a pair wins.
    m->merges_.emplace(pair_key(*ia, *ib), Merge{static_cast<int32_t>(rank), *ir});
  }
  for (int b = 0; b < 256; ++b) {
    auto id = vocab.find(byte_token_text(static_cast<uint8_t>(b)));
    m->byte_ids_[b] = id ? *id : -1;
  }
  return m;
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>* out) const {
  if (word.empty()) return;
  if (opts_.ignore_merges ||
      (opts_.whole_newlines && word.find_first_not_of('\n') == std::string_view::npos)) {
    if (auto id = vocab_.find(word)) {
      out->push_back(*id);
      return;
    }
  }
  const bool cacheable = word.size() <= kMaxCachedWordLen;
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = cache_.find(std::string(word));
    if (it != cache_.end()) {
      out->insert(out->end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> ids;
  merge_word(word, &ids);
  out->insert(out->end(), ids.begin(), ids.end());
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (cache_.size() >= kMaxCacheEntries) cache_.clear();  // bounded: start over when full
    cache_.emplace(std::string(word), std::move(ids));
  }
}

void BpeModel::merge_word(std::string_view word, std::vector<int32_t>* out) const {
  // Symbols form a doubly linked list over the word; merged-away symbols get id -1.
  struct Symbol {
    int32_t id;
    int32_t prev, next;
  };
  std::vector<Symbol> syms;
  syms.reserve(word.size());
  size_t pos = 0;
  bool last_unk = false;
  while (pos < word.size()) {
    const size_t n = std::min(utf8::seq_len(static_cast<uint8_t>(word[pos])), word.size() - pos);
    const std::string_view ch = word.substr(pos, n);
    pos += n;
    if (auto id = vocab_.find(ch)) {
      syms.push_back({*id, 0, 0});
      last_unk = false;
      continue;
    }
    if (opts_.byte_fallback) {
      bool all = true;
      for (char c : ch) all = all && byte_ids_[static_cast<uint8_t>(c)] >= 0;
      if (all) {
        for (char c : ch) syms.push_back({byte_ids_[static_cast<uint8_t>(c)], 0, 0});
        last_unk = false;
        continue;
      }
    }
    if (opts_.unk_id) {
      if (!(opts_.fuse_unk && last_unk)) syms.push_back({*opts_.unk_id, 0, 0});
      last_unk = true;
    }
    // No unk token: the character is dropped (HF would fail; we never abort on user text).
  }
  const int32_t n = static_cast<int32_t>(syms.size());
  for (int32_t i = 0; i < n; ++i) {
    syms[i].prev = i - 1;
    syms[i].next = i + 1 < n ? i + 1 : -1;
  }

  struct Candidate {
    int32_t rank;
    int32_t left;  // index of the left symbol
    int32_t left_id, right_id, result;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : left > o.left;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  auto try_push = [&](int32_t left) {
    if (left < 0) return;
    const int32_t right = syms[left].next;
    if (right < 0) return;
    auto it = merges_.find(pair_key(syms[left].id, syms[right].id));
    if (it == merges_.end()) return;
    queue.push({it->second.rank, left, syms[left].id, syms[right].id, it->second.result});
  };
  for (int32_t i = 0; i + 1 < n; ++i) try_push(i);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& l = syms[c.left];
    if (l.id != c.left_id || l.next < 0) continue;  // stale
    Symbol& r = syms[l.next];
    if (r.id != c.right_id) continue;  // stale
    l.id = c.result;
    const int32_t after = r.next;
    r.id = -1;
    l.next = after;
    if (after >= 0) syms[after].prev = c.left;
    try_push(l.prev);
    try_push(c.left);
  }
  for (int32_t i = n > 0 ? 0 : -1; i >= 0; i = syms[i].next) out->push_back(syms[i].id);
}

}  // namespace sluice
