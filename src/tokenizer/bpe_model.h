#pragma once
// Rank-based BPE (tokenizer.json "BPE", GGUF "gpt2"): words start as characters and the
// lowest-ranked adjacent pair merges first (ties: leftmost), with a bounded per-word cache.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "tokenizer/vocab.h"

namespace sluice {

class BpeModel {
 public:
  struct Options {
    bool byte_fallback = false;   // unknown characters -> <0xNN> tokens
    bool ignore_merges = false;   // a word that is itself a token is emitted whole
    bool whole_newlines = false;  // ... only for words of newlines (llama.cpp's Gemma 4 rule)
    bool fuse_unk = false;
    std::optional<int32_t> unk_id;
  };

  // merges: pairs of token texts, in rank order. strict: a merge whose result is not a token is an
  // error (tokenizer.json); otherwise it is skipped (GGUF).
  static Result<std::unique_ptr<BpeModel>> create(
      const Vocab& vocab, const std::vector<std::pair<std::string, std::string>>& merges,
      Options opts, bool strict);

  // Appends the ids of one pre-tokenized word (already in the vocabulary's alphabet).
  void encode_word(std::string_view word, std::vector<int32_t>* out) const;

 private:
  explicit BpeModel(const Vocab& vocab) : vocab_(vocab) {}
  void merge_word(std::string_view word, std::vector<int32_t>* out) const;

  const Vocab& vocab_;
  Options opts_;
  struct Merge {
    int32_t rank;
    int32_t result;
  };
  std::unordered_map<uint64_t, Merge> merges_;  // (left id << 32 | right id) -> merge
  int32_t byte_ids_[256];                       // <0xNN> ids for byte fallback, -1 if absent

  static constexpr size_t kMaxCachedWordLen = 256;
  static constexpr size_t kMaxCacheEntries = 1 << 16;
  mutable std::mutex cache_mu_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace sluice
