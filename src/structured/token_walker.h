#pragma once
// Walks many tokens through the automaton in byte-sorted order, sharing the work of common
// prefixes (a trie walk over the sorted vocabulary) and skipping every token under a dead prefix.
#include <cstdint>
#include <span>
#include <vector>

#include "structured/grammar_matcher.h"
#include "structured/stack_stepper.h"

namespace sluice::structured {

class TokenWalker {
 public:
  TokenWalker(const Grammar& g, const TokenVocab& vocab, FramePool& pool)
      : vocab_(vocab), stepper_(g, pool) {}

  // Every sorted token from the stack (node over kUnknownFrame): accepted whatever the caller
  // is, or uncertain (it pops out of the rule; the caller decides). The rest are rejected.
  void classify(int32_t node, std::vector<int32_t>& accepted, std::vector<int32_t>& uncertain);

  // Sorted tokens `list` (ascending; lcps[k] = common prefix with list[k - 1]) from `init`:
  // calls on_accept(sorted index) for each token that leaves a live state.
  template <typename F>
  void check(std::span<const Stack> init, std::span<const int32_t> list,
             std::span<const uint16_t> lcps, F&& on_accept);

  // Runs `bytes` from `init`; returns false when the state dies. `out` gets the final stacks.
  bool run(std::span<const Stack> init, std::string_view bytes, std::vector<Stack>& out,
           StepFlags& flags);

 private:
  void reset(std::span<const Stack> init);
  void truncate(int32_t depth);
  bool advance(uint8_t byte);  // pushes one level; false when it holds nothing at all

  const TokenVocab& vocab_;
  StackStepper stepper_;
  std::vector<Stack> buf_;
  std::vector<size_t> level_begin_;  // level d: buf_[level_begin_[d], level_begin_[d + 1])
  std::vector<StepFlags> flags_;
  std::vector<uint8_t> unknown_seen_;
  std::vector<size_t> pool_mark_;
  int32_t depth_ = 0;
};

template <typename F>
void TokenWalker::check(std::span<const Stack> init, std::span<const int32_t> list,
                        std::span<const uint16_t> lcps, F&& on_accept) {
  reset(init);
  int32_t dead_len = INT32_MAX;
  for (size_t k = 0; k < list.size(); ++k) {
    const int32_t l = k == 0 ? 0 : lcps[k];
    if (l >= dead_len) continue;  // shares a prefix already found dead
    dead_len = INT32_MAX;
    truncate(std::min(depth_, l));
    const std::string_view tok = vocab_.sorted_bytes(list[k]);
    bool alive = true;
    while (depth_ < static_cast<int32_t>(tok.size())) {
      if (!advance(static_cast<uint8_t>(tok[depth_]))) {
        dead_len = depth_;
        alive = false;
        break;
      }
    }
    if (alive) {
      const bool has_stacks = level_begin_[depth_ + 1] > level_begin_[depth_];
      if (has_stacks || flags_[depth_].finished) on_accept(list[k]);
    }
  }
  truncate(0);
}

}  // namespace sluice::structured
