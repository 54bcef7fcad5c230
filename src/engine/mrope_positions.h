#pragma once
// M-RoPE positions of a sequence (Qwen2-VL's get_rope_index; llama.cpp's mtmd places images the
// same way). Image token k of an image whose merged grid is rows x cols, starting at token index
// `offset`, has t = p0, h = p0 + k / cols, w = p0 + k % cols, with p0 = offset + shift; the
// image then advances the positions by max(rows, cols) instead of its rows * cols tokens. A text
// token at index i has t = h = w = i + shift, shift = the sum over the images before it of
// their advance less their tokens (the sequence's rope delta: never positive).
//
//   tokens   a  b  [img 2x3: 6 tokens]  c  d
//   t        0  1  2  2  2  2  2  2     5  6
//   h        0  1  2  2  2  3  3  3     5  6
//   w        0  1  2  3  4  2  3  4     5  6
//
// A video (Qwen2-VL family) is `frames` such grids in time order: temporal patch f has
// t = p0 + floor(f * t_step) (Qwen2-VL: t_step 1; Qwen2.5-VL: its seconds per temporal patch
// times tokens_per_second), h and w as an image's. It advances the positions past its largest:
// by max(floor((frames - 1) * t_step) + 1, rows, cols), as Qwen's reference code, vLLM and
// transformers before 5.3 do (transformers 5.3+ advance by max(rows, cols) alone).
//
//   tokens   a  [video: 3 patches of 1x2, t_step 2]  b
//   t        0  1  1  3  3  5  5                    6
//   h        0  1  1  1  1  1  1                    6
//   w        0  1  2  1  2  1  2                    6
//
// A pure function of the token index and the prompt's images: prefill chunks, decodes,
// recomputation after preemption, forked sequences and prefix-cache hits all get the same
// positions with no state kept.
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/request.h"
#include "model/vision/vision_config.h"

namespace sluice {

struct ImageGrid {
  int32_t offset = 0;          // index of the image's first placeholder token
  int32_t rows = 0, cols = 0;  // its merged token grid (rows * cols tokens per temporal patch)
  int32_t frames = 1;          // temporal patches: 1 for an image
  double t_step = 1;           // t advance per temporal patch (before flooring)

  int32_t num_tokens() const { return frames * rows * cols; }
  // t of temporal patch f, less p0.
  int32_t t_of(int32_t f) const;
  // How far the grid advances the positions.
  int32_t advance() const;
};

// The grid of a request's image or video clip for a Qwen2-VL-family tower: its size in merged
// tokens; a clip's temporal patches (frame pairs) and t_step (Qwen2.5-VL: tokens_per_second *
// second_per_grid_t, the seconds from one temporal patch to the next; Qwen2-VL: 1).
ImageGrid image_grid(const ImageInput& im, const VisionConfig& c);

// Appends the positions of tokens [begin, end) to planes t, h, w, e (e: 0 for image tokens, as
// llama.cpp; t for text). images: sorted by offset, not overlapping.
void append_mrope_positions(std::span<const ImageGrid> images, int32_t begin, int32_t end,
                            std::array<std::vector<int32_t>, 4>& planes);

}  // namespace sluice
