#pragma once
// Several weights of one dtype and column count multiplied by the same activations in one launch
// (q/k/v, gate/up): the grid's blocks of rows are laid end to end over the weights, and a block
// finds its weight by its first block index.
#include <cstdint>

#include "backend/cuda/dequant.cuh"
#include "backend/cuda/kernels.h"
#include "common/assert.h"

namespace sluice::cuda {

constexpr int kMaxSegments = kMaxRowsProducts;

struct Segments {
  Planes w[kMaxSegments];
  int64_t rows[kMaxSegments] = {};
  float* y[kMaxSegments] = {};
  int64_t first_block[kMaxSegments + 1] = {};  // [count] = total blocks
  int count = 0;
};

// The segments of `count` products (same dtype and cols), blocks of `rows_per_block` rows.
inline Segments make_segments(const RowsProduct* ps, int count, int64_t unit_elems,
                              int64_t rows_per_block) {
  SLUICE_ASSERT(count >= 1 && count <= kMaxSegments, "1 to kMaxRowsProducts products per launch");
  Segments s;
  s.count = count;
  for (int i = 0; i < count; ++i) {
    SLUICE_ASSERT(ps[i].w->dtype == ps[0].w->dtype && ps[i].w->cols == ps[0].w->cols,
                  "products in one launch share their dtype and column count");
    s.w[i] = planes(*ps[i].w, unit_elems);
    s.rows[i] = ps[i].w->rows;
    s.y[i] = ps[i].y;
    s.first_block[i + 1] = s.first_block[i] + (s.rows[i] + rows_per_block - 1) / rows_per_block;
  }
  return s;
}

// Block b's weight: its planes, rows, output, and the first row of the block.
struct Segment {
  Planes w;
  int64_t rows;
  float* y;
  int64_t r0;
};
__device__ __forceinline__ Segment segment_of(const Segments& s, int64_t b,
                                              int64_t rows_per_block) {
  int i = 0;
  while (i + 1 < s.count && b >= s.first_block[i + 1]) ++i;
  return Segment{s.w[i], s.rows[i], s.y[i], (b - s.first_block[i]) * rows_per_block};
}

}  // namespace sluice::cuda
