#include "model/kv_layout.h"

#include <algorithm>

#include "common/assert.h"

namespace sluice {

KvLayout KvLayout::single(int64_t num_layers) {
  KvLayout l;
  l.pages_per_block = num_layers;
  l.group_windows = {0};
  l.layer_group.assign(num_layers, 0);
  for (int64_t i = 0; i < num_layers; ++i) l.layer_page.push_back(static_cast<int32_t>(i));
  return l;
}

KvLayout KvLayout::of(const ModelConfig& c, bool release_windows) {
  std::vector<int32_t> full, sliding;
  for (int64_t i = 0; i < c.num_layers; ++i)
    if (!c.is_recurrent(i)) (c.is_sliding(i) ? sliding : full).push_back(static_cast<int32_t>(i));
  if (c.hybrid()) {  // recurrent layers keep a state, not pages: one group of the others
    SLUICE_ASSERT(sliding.empty(), "sliding-window layers in a hybrid model are not supported");
    KvLayout l;
    l.pages_per_block = static_cast<int64_t>(full.size());
    l.group_windows = {0};
    l.layer_group.assign(c.num_layers, -1);
    l.layer_page.assign(c.num_layers, -1);
    for (size_t j = 0; j < full.size(); ++j) l.layer_group[full[j]] = 0, l.layer_page[full[j]] = j;
    return l;
  }
  if (!release_windows || sliding.empty()) return single(c.num_layers);
  const auto F = static_cast<int64_t>(full.size()), S = static_cast<int64_t>(sliding.size());
  auto groups = [](int64_t n, int64_t size) { return (n + size - 1) / size; };
  // The smaller count per group (n:1 patterns divide evenly), or the larger when it pads less.
  const int64_t lo = F == 0 ? S : std::min(F, S), hi = std::max(F, S);
  const int64_t size =
      hi * (groups(F, hi) + groups(S, hi)) <= lo * (groups(F, lo) + groups(S, lo)) ? hi : lo;
  KvLayout l;
  l.pages_per_block = size;
  l.layer_group.assign(c.num_layers, 0);
  l.layer_page.assign(c.num_layers, 0);
  auto place = [&](const std::vector<int32_t>& layers, int32_t window) {
    const auto first = static_cast<int32_t>(l.group_windows.size());
    for (size_t j = 0; j < layers.size(); ++j) {
      l.layer_group[layers[j]] = first + static_cast<int32_t>(j / size);
      l.layer_page[layers[j]] = static_cast<int32_t>(j % size);
    }
    l.group_windows.insert(l.group_windows.end(), groups(static_cast<int64_t>(layers.size()), size),
                           window);
  };
  place(full, 0);
  SLUICE_ASSERT(c.sliding_window > 0 && c.sliding_window <= INT32_MAX,
                "sliding window out of range");
  place(sliding, static_cast<int32_t>(c.sliding_window));
  return l;
}

}  // namespace sluice
