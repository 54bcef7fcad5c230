#pragma once
// M-RoPE positions of a sequence (Qwen2-VL's get_rope_index; llama.cpp's mtmd places images the
// same way). Image token k of an image whose merged grid is rows x cols, starting at token index
// `offset`, has t = p0, h = p0 + k / cols, w = p0 + k % cols, with p0 = offset + shift; the
// image then advances the positions by max(rows, cols) instead of its rows * cols tokens. A text
// token at index i has t = h = w = i + shift, shift = the sum over the images before it of
// max(rows, cols) - rows * cols (the sequence's rope delta: never positive).
//
//   tokens   a  b  [img 2x3: 6 tokens]  c  d
//   t        0  1  2  2  2  2  2  2     5  6
//   h        0  1  2  2  2  3  3  3     5  6
//   w        0  1  2  3  4  2  3  4     5  6
//
// A pure function of the token index and the prompt's images: prefill chunks, decodes,
// recomputation after preemption, forked sequences and prefix-cache hits all get the same
// positions with no state kept.
#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace sluice {

struct ImageGrid {
  int32_t offset = 0;          // index of the image's first placeholder token
  int32_t rows = 0, cols = 0;  // its merged token grid (rows * cols tokens)
};

// Appends the positions of tokens [begin, end) to planes t, h, w, e (e: 0 for image tokens, as
// llama.cpp; t for text). images: sorted by offset, not overlapping.
void append_mrope_positions(std::span<const ImageGrid> images, int32_t begin, int32_t end,
                            std::array<std::vector<int32_t>, 4>& planes);

}  // namespace sluice
