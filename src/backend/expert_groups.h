#pragma once
// A MoE step's slots grouped by expert, so each expert's rows run together (backend/moe_ops.cc's
// defaults, the CPU backend's one-region expert products).
#include <cstdint>
#include <vector>

namespace sluice {

// Slots grouped by expert (stable): order[i] is a slot; expert e's slots are
// order[start[e] .. start[e+1]).
struct ExpertGroups {
  std::vector<int32_t> order, start;
};

// ids[slots]: each slot's expert, in [0, num_experts) (asserted).
ExpertGroups group_by_expert(const int32_t* ids, int64_t slots, int64_t num_experts);

}  // namespace sluice
