#pragma once
// Qwen3-VL's absolute position embeddings for one image (transformers'
// Qwen3VLVisionModel.fast_pos_embed_interpolate): the learned square table [side, side, hidden]
// resampled bilinearly with aligned corners to the image's patch grid [grid_h, grid_w]:
//   patch (y, x) reads the table at (y * (side - 1) / (grid_h - 1), x * (side - 1) / (grid_w - 1))
// (0 along an axis of one patch). Weights and grid only, so the host computes it per image.
#include <cstdint>

namespace sluice {

// table: F32 [side * side, hidden] (row-major over the table's rows then columns).
// out [count, hidden]: the embedding of patch (pos_y[r], pos_x[r]) of a grid_h x grid_w grid.
void qwen3vl_position_rows(const float* table, int64_t side, int64_t hidden, int64_t grid_h,
                           int64_t grid_w, const int32_t* pos_y, const int32_t* pos_x,
                           int64_t count, float* out);

}  // namespace sluice
