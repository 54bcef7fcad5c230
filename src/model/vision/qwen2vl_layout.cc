#include "model/vision/qwen2vl_layout.h"

#include <algorithm>

#include "common/assert.h"

namespace sluice {

Qwen2vlLayout qwen2vl_layout(int64_t grid_h, int64_t grid_w, int64_t merge, int64_t window) {
  SLUICE_ASSERT(merge > 0 && grid_h > 0 && grid_w > 0 && grid_h % merge == 0 &&
                    grid_w % merge == 0 && window >= 0,
                "a patch grid of whole merge units");
  Qwen2vlLayout l;
  l.grid_h = grid_h, l.grid_w = grid_w;
  const int64_t units_h = grid_h / merge, units_w = grid_w / merge;
  const int64_t side = window > 0 ? window : std::max(units_h, units_w);
  l.token_row.resize(static_cast<size_t>(units_h * units_w));
  l.window_start.push_back(0);
  int32_t unit = 0;  // the next unit's index in encoder order
  for (int64_t wy = 0; wy < units_h; wy += side)
    for (int64_t wx = 0; wx < units_w; wx += side) {
      for (int64_t uy = wy; uy < std::min(wy + side, units_h); ++uy)
        for (int64_t ux = wx; ux < std::min(wx + side, units_w); ++ux) {
          l.token_row[static_cast<size_t>(uy * units_w + ux)] = unit++;
          for (int64_t dy = 0; dy < merge; ++dy)
            for (int64_t dx = 0; dx < merge; ++dx) {
              l.pos_y.push_back(static_cast<int32_t>(uy * merge + dy));
              l.pos_x.push_back(static_cast<int32_t>(ux * merge + dx));
            }
        }
      l.window_start.push_back(static_cast<int32_t>(l.pos_y.size()));
    }
  return l;
}

}  // namespace sluice
