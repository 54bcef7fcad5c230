#pragma once
// The patch embedding's input on the host (im2col of a stride = kernel convolution): each patch
// becomes one row, so the convolution is one matmul with the conv weight [hidden, 3 * p * p].
#include <cstdint>

namespace sluice {

// pixels [3, size, size] (channel-planar) -> out [(size/patch)^2, 3 * patch * patch]: row
// py * (size/patch) + px holds patch (py, px), columns in the conv weight's order (c, y, x).
void patchify(const float* pixels, int64_t size, int64_t patch, float* out);

// pixels [3, height, width] (channel-planar) -> out [count, 3 * patch * patch]: row r holds patch
// (py[r], px[r]) of the grid (rows py * patch .. +patch, columns px * patch ..), columns (c, y, x).
void patchify_at(const float* pixels, int64_t height, int64_t width, int64_t patch,
                 const int32_t* py, const int32_t* px, int64_t count, float* out);

// frames [num_frames, 3, height, width] -> out [count, num_frames * 3 * patch * patch]: row r
// holds patch (py[r], px[r]) of every frame side by side, columns (frame, c, y, x) (a Conv3d
// over num_frames frames as one matmul).
void patchify_frames_at(const float* frames, int64_t num_frames, int64_t height, int64_t width,
                        int64_t patch, const int32_t* py, const int32_t* px, int64_t count,
                        float* out);

}  // namespace sluice
