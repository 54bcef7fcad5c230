#pragma once
// How the layers share the paged KV cache's memory (vLLM's KV cache groups). Layers split into
// groups of pages_per_block layers; each group has its own block table per sequence, and a block
// id is one page in each of pages_per_block tensors, used by whichever group's table holds it.
// Full-attention layers fill the first groups, sliding-window layers the rest, so a sliding
// group can give back the blocks its window has left (kv/kv_cache_manager.h). Gemma 3 270M:
//   layers 0-17, every 6th global: 3 full + 15 sliding -> 3 pages per block, 6 groups
//   group 0 (full) {5, 11, 17} | sliding {0, 1, 2} {3, 4, 6} {7, 8, 9} {10, 12, 13} {14, 15, 16}
// A model without sliding layers has one group of all its layers; a hybrid model one group of its
// attention layers (its recurrent layers have group and page -1: they keep a state instead).
#include <cstdint>
#include <vector>

#include "model/model_config.h"

namespace sluice {

struct KvLayout {
  int64_t pages_per_block = 0;         // layers per group; the last group of a kind may pad
  std::vector<int32_t> group_windows;  // [num_groups]: 0 full attention, else the window
  std::vector<int32_t> layer_group;    // [num_layers]
  std::vector<int32_t> layer_page;     // [num_layers]: the tensor of the layer's page

  int32_t num_groups() const { return static_cast<int32_t>(group_windows.size()); }
  // One group of every layer: every layer keeps every block.
  static KvLayout single(int64_t num_layers);
  // Sliding layers (ModelConfig::is_sliding) in groups of their own when release_windows is on.
  static KvLayout of(const ModelConfig& c, bool release_windows);
};

}  // namespace sluice
