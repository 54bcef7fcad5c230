#pragma once
// Fewest bytes that complete a match: per node of a compiled Grammar (once, at compile time) and
// for a matching state (a set of stacks). A stack (top, frames) costs the top's bytes to its
// rule's end plus, for every frame, the bytes from that return node to the end of its rule.
#include <cstdint>
#include <span>
#include <vector>

#include "structured/stack_stepper.h"

namespace sluice::structured {

constexpr int32_t kNoFinish = 1 << 29;  // no way to finish (sums saturate here)

struct FinishCosts {
  std::vector<int32_t> to_end;    // [num_nodes] from a node (its expansion) to its rule's end
  std::vector<int32_t> from_top;  // [num_nodes] from a stack top, through its byte edges only
};

// The least fixpoint of: to_end(n) = 0 if n reaches its rule's end, else the min over n's
// expansions of from_top(byte node) + sum of to_end(pushed returns); from_top(b) = the min over
// b's byte edges of 1 + to_end(target). Solved like Dijkstra (Knuth's generalization).
FinishCosts compute_finish_costs(const Grammar& g);

// One stack: frames are summed down to kRootFrame (or kUnknownFrame: bytes within the rule).
int32_t stack_finish_bytes(const Grammar& g, const FramePool& pool, const Stack& s);
// A state: 0 when finished, else the cheapest stack.
int32_t state_finish_bytes(const Grammar& g, const FramePool& pool, std::span<const Stack> stacks,
                           const StepFlags& flags);

}  // namespace sluice::structured
