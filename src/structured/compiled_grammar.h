#pragma once
// The compiled, immutable Grammar: a byte-level pushdown automaton.
//
//   node --byte range--> node        (consumes one byte)
//   node --call R, return r-->       (push r, continue at R's start; R's end pops r)
//
// Matching state is a set of stacks; a stack's top is always a "byte node" (one with byte edges).
// For every node the compiler precomputes its expansion: the byte nodes reachable without
// consuming input, each with the return nodes pushed on the way, plus whether the rule's end is
// reachable (then the stack pops).
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "structured/grammar.h"

namespace sluice::structured {

class TokenVocab;
class MaskCache;

class Grammar {
 public:
  struct Edge {
    uint8_t lo = 0;
    uint8_t hi = 0;
    int32_t target = 0;
  };
  struct Expansion {
    int32_t byte_node = 0;
    int32_t push_begin = 0;  // into pushes(): return nodes, outermost first
    int32_t push_len = 0;
  };

  int32_t num_nodes() const { return static_cast<int32_t>(edge_begin_.size()) - 1; }
  int32_t root() const { return root_; }
  std::span<const Edge> edges(int32_t node) const {
    return {edges_.data() + edge_begin_[node], edges_.data() + edge_begin_[node + 1]};
  }
  std::span<const Expansion> expansion(int32_t node) const {
    return {expansions_.data() + exp_begin_[node], expansions_.data() + exp_begin_[node + 1]};
  }
  bool end_reachable(int32_t node) const { return end_reachable_[node] != 0; }
  const int32_t* pushes() const { return pushes_.data(); }
  // Bytes that have some edge out of `node` (a fast first check).
  bool has_byte(int32_t node, uint8_t b) const {
    return (first_bytes_[size_t(node) * 8 + (b >> 5)] >> (b & 31)) & 1u;
  }
  // Fewest bytes from `node` to the end of its rule (finish_costs.h); kNoFinish: no way.
  int32_t bytes_to_end(int32_t node) const { return to_end_[node]; }
  // The same from a stack top, through its byte edges only (its other ways are other stacks).
  int32_t bytes_from_top(int32_t node) const { return from_top_[node]; }
  size_t memory_bytes() const;

  // Per-vocabulary token-mask cache, created on first use (thread-safe).
  MaskCache& mask_cache(const std::shared_ptr<const TokenVocab>& vocab) const;

  ~Grammar();

 private:
  friend class GrammarBuilder;
  int32_t root_ = 0;
  std::vector<int32_t> edge_begin_;
  std::vector<Edge> edges_;
  std::vector<int32_t> exp_begin_;
  std::vector<Expansion> expansions_;
  std::vector<int32_t> pushes_;
  std::vector<uint8_t> end_reachable_;
  std::vector<uint32_t> first_bytes_;  // 256 bits per node
  std::vector<int32_t> to_end_, from_top_;

  mutable std::mutex cache_mu_;
  mutable std::vector<std::pair<std::weak_ptr<const TokenVocab>, std::unique_ptr<MaskCache>>>
      caches_;
};

}  // namespace sluice::structured
