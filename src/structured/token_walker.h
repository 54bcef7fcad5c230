#pragma once
// Walks many tokens through the automaton in byte-sorted order, sharing the work of common
// prefixes (a trie walk over the sorted vocabulary) and skipping every token under a dead prefix.
#include <climits>
#include <cstdint>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "structured/grammar_matcher.h"
#include "structured/stack_stepper.h"

namespace sluice::structured {

// How the tokens fare from one node over kUnknownFrame (sorted-vocabulary indices, ascending).
struct Classified {
  std::vector<int32_t> accepted;   // accepted whatever the caller is
  std::vector<int32_t> uncertain;  // only by popping out of the rule: the caller decides
  // Accepted, but some path popped out of the rule on the way (its bytes to finish depend on
  // the caller): budget masks check these on the real stack.
  std::vector<int32_t> mixed;
  // The other accepted tokens that change the bytes needed to finish: (change, sorted index).
  std::vector<std::pair<int32_t, int32_t>> changes;
  int32_t max_increase = INT32_MIN;  // the most any accepted token adds (INT32_MIN: none)
};

class TokenWalker {
 public:
  TokenWalker(const Grammar& g, const TokenVocab& vocab, FramePool& pool)
      : g_(g), vocab_(vocab), stepper_(g, pool) {}

  // Every sorted token from the stack (node over kUnknownFrame); the rest are rejected.
  // Bytes to finish are counted within the rule (finish_costs.h).
  void classify(int32_t node, Classified& out);

  // Sorted tokens `list` (ascending; lcps[k] = common prefix with list[k - 1]) from `init`:
  // calls on_accept(sorted index) for each token that leaves a live state, or
  // on_accept(sorted index, final stacks, flags) when F takes those.
  template <typename F>
  void check(std::span<const Stack> init, std::span<const int32_t> list,
             std::span<const uint16_t> lcps, F&& on_accept);

  // The whole sorted vocabulary from `init`, skipping dead prefixes: calls
  // on_token(sorted index, final stacks, flags) for each token that leaves a live state.
  template <typename F>
  void walk_all(std::span<const Stack> init, F&& on_token);

  // Runs `bytes` from `init`; returns false when the state dies. `out` gets the final stacks.
  bool run(std::span<const Stack> init, std::string_view bytes, std::vector<Stack>& out,
           StepFlags& flags);

 private:
  // The trie walk over the whole sorted vocabulary from the current reset: on_dead(i, end) when
  // token i dies at depth_ (tokens [i, end) share the dead prefix and are skipped), on_live(i)
  // when all its bytes leave a state (level(depth_) / flags_[depth_] hold it).
  template <typename Dead, typename Live>
  void walk_sorted(Dead&& on_dead, Live&& on_live);
  void reset(std::span<const Stack> init);
  void truncate(int32_t depth);
  bool advance(uint8_t byte);  // pushes one level; false when it holds nothing at all
  std::span<const Stack> level(int32_t d) const {
    return {buf_.data() + level_begin_[d], level_begin_[d + 1] - level_begin_[d]};
  }

  const Grammar& g_;
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
      if (!has_stacks && !flags_[depth_].finished) continue;
      if constexpr (std::is_invocable_v<F&, int32_t, std::span<const Stack>, const StepFlags&>)
        on_accept(list[k], level(depth_), flags_[depth_]);
      else
        on_accept(list[k]);
    }
  }
  truncate(0);
}

template <typename Dead, typename Live>
void TokenWalker::walk_sorted(Dead&& on_dead, Live&& on_live) {
  const int32_t n = vocab_.num_sorted();
  for (int32_t i = 0; i < n;) {
    truncate(std::min(depth_, vocab_.lcp(i)));
    const std::string_view tok = vocab_.sorted_bytes(i);
    int32_t next = i + 1;
    bool alive = true;
    while (depth_ < static_cast<int32_t>(tok.size())) {
      if (!advance(static_cast<uint8_t>(tok[depth_]))) {
        next = vocab_.subtree_end(i, depth_);  // every token under this prefix is dead too
        alive = false;
        on_dead(i, next);
        break;
      }
    }
    if (alive) on_live(i);
    i = next;
  }
  truncate(0);
}

template <typename F>
void TokenWalker::walk_all(std::span<const Stack> init, F&& on_token) {
  reset(init);
  walk_sorted([](int32_t, int32_t) {},
              [&](int32_t i) { on_token(i, level(depth_), flags_[depth_]); });
}

}  // namespace sluice::structured
