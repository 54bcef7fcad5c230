#pragma once
// Drives a compiled Grammar token by token for one sequence: which tokens may come next (a bitmask
// over the vocabulary) and advancing on the sampled token.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "structured/grammar.h"

namespace sluice {
class Tokenizer;
}

namespace sluice::structured {

// Every token's bytes plus a structure for fast mask computation; built once per tokenizer and
// shared (immutable, thread-safe; ~0.3 s and ~15 MB for a 150k vocabulary). Special tokens count by
// their text unless listed as end-of-generation ids.
class TokenVocab {
 public:
  static std::shared_ptr<const TokenVocab> build(const Tokenizer& tok);
  // From raw bytes per token id (tests, tools). Empty tokens are never allowed.
  static std::shared_ptr<const TokenVocab> from_bytes(std::vector<std::string> bytes_by_id,
                                                      std::vector<int32_t> eog_ids);
  int32_t size() const { return static_cast<int32_t>(bytes_by_id_.size()); }
  const std::string& token_bytes(int32_t id) const { return bytes_by_id_[id]; }
  const std::vector<int32_t>& eog_ids() const { return eog_ids_; }
  bool is_eog(int32_t id) const { return is_eog_[id] != 0; }

  // Tokens that carry bytes (not end-of-generation, not empty), sorted by their bytes.
  int32_t num_sorted() const { return static_cast<int32_t>(sorted_ids_.size()); }
  int32_t sorted_id(int32_t i) const { return sorted_ids_[i]; }
  std::string_view sorted_bytes(int32_t i) const {
    return {sorted_bytes_.data() + offsets_[i], size_t(offsets_[i + 1] - offsets_[i])};
  }
  int32_t lcp(int32_t i) const { return lcp_[i]; }  // common prefix with sorted token i - 1
  // First sorted index after i whose first `depth` bytes differ from token i's (1 <= depth).
  int32_t subtree_end(int32_t i, int32_t depth) const {
    return subtree_end_[offsets_[i] + depth - 1];
  }
  size_t memory_bytes() const;

 private:
  void index();
  std::vector<std::string> bytes_by_id_;
  std::vector<int32_t> eog_ids_;
  std::vector<uint8_t> is_eog_;
  std::vector<int32_t> sorted_ids_;
  std::string sorted_bytes_;
  std::vector<int32_t> offsets_;
  std::vector<int32_t> lcp_;
  std::vector<int32_t> subtree_end_;
};

// One per sequence, used from one thread at a time. Construction is cheap (a closure of the
// start rule); masks reuse the per-node cache shared through the Grammar. The first visit of a
// grammar node with a vocabulary classifies every token for it (a trie walk, up to tens of ms).
class GrammarMatcher {
 public:
  GrammarMatcher(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const TokenVocab> vocab);
  ~GrammarMatcher();
  // bitmask: [(vocab_size + 31) / 32] words; bit t set <=> token t may come next. End-of-generation
  // ids are allowed exactly when the grammar is complete (can stop here).
  void fill_mask(std::span<uint32_t> bitmask);
  // Budget rule, for a sequence that may emit `tokens_left` more tokens (this one included): a
  // token may come only if what it leaves can still be completed in the tokens after it, one kept
  // for end-of-generation (min_bytes_to_finish() after it <= tokens_left - 2; single-byte tokens
  // make that reachable). Once tokens_left <= min_bytes_to_finish() + 1 this is the finishing
  // mask, which is also the best effort when the budget is already too small.
  void fill_mask(std::span<uint32_t> bitmask, int32_t tokens_left);
  // Only tokens after which min_bytes_to_finish() <= max_bytes_after (end-of-generation when
  // complete). As cheap as fill_mask while the limit is far (a cached bound per grammar node);
  // near it, walks the whole vocabulary from the current state.
  void fill_budget_mask(std::span<uint32_t> bitmask, int32_t max_bytes_after);
  // Only tokens after which min_bytes_to_finish() strictly decreases, so each one makes progress,
  // plus end-of-generation when complete.
  void fill_finishing_mask(std::span<uint32_t> bitmask);
  // Fewest bytes that complete the match from here (0 when can_finish()).
  int32_t min_bytes_to_finish() const;
  // Advances on token; false (and no change) when the token is not allowed.
  bool accept(int32_t token);
  bool can_finish() const;   // the bytes so far form a complete match
  bool must_finish() const;  // complete and nothing more may follow (only end-of-generation)

  // An independent copy of the current state (same shared grammar and vocabulary).
  std::unique_ptr<GrammarMatcher> clone() const;
  size_t num_stacks() const;  // size of the parse state (diagnostics)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::structured
