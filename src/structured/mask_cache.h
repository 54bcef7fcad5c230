#pragma once
// Adaptive token-mask cache (the idea of xgrammar): for each byte node, the tokens accepted no
// matter what lies below the top of the stack, plus the few "uncertain" tokens that pop out of
// the node's rule and must be checked against the real stack at run time. Computed lazily, once
// per (grammar, vocabulary), shared by every matcher.
#include <atomic>
#include <climits>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "structured/compiled_grammar.h"
#include "structured/grammar_matcher.h"

namespace sluice::structured {

struct NodeMask {
  std::vector<uint32_t> accepted_bits;  // bitset over token ids, when many are accepted
  std::vector<int32_t> accepted_ids;    // else the accepted token ids
  std::vector<int32_t> uncertain;       // sorted-vocabulary indices, ascending
  std::vector<uint16_t> uncertain_lcp;  // common prefix with the previous uncertain token
  // For budget masks (finish_costs.h): the most an accepted token adds to the bytes needed to
  // finish (INT32_MIN: none accepted); the accepted tokens that change them, ascending by the
  // change (dropped when there are too many: budget masks then walk the vocabulary); accepted
  // tokens whose change depends on the caller (sorted indices, checked on the real stack).
  int32_t max_increase = INT32_MIN;
  std::vector<int32_t> changes, change_ids;
  bool changes_dropped = false;
  std::vector<int32_t> mixed;
  std::vector<uint16_t> mixed_lcp;
  size_t memory_bytes() const;
};

class MaskCache {
 public:
  MaskCache(const Grammar& g, const std::shared_ptr<const TokenVocab>& vocab);
  ~MaskCache();
  // The node's mask, computed on first use (thread-safe; the vocabulary must be alive).
  const NodeMask& get(int32_t node);
  size_t memory_bytes() const;
  int32_t num_computed() const;

 private:
  const Grammar& g_;
  const TokenVocab* vocab_;
  std::unique_ptr<std::atomic<const NodeMask*>[]> masks_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<NodeMask>> owned_;
};

}  // namespace sluice::structured
