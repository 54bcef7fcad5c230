#pragma once
// The patch embedding's input on the host (im2col of a stride = kernel convolution): each patch
// becomes one row, so the convolution is one matmul with the conv weight [hidden, 3 * p * p].
#include <cstdint>

namespace sluice {

// pixels [3, size, size] (channel-planar) -> out [(size/patch)^2, 3 * patch * patch]: row
// py * (size/patch) + px holds patch (py, px), columns in the conv weight's order (c, y, x).
void patchify(const float* pixels, int64_t size, int64_t patch, float* out);

}  // namespace sluice
