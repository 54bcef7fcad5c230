#include "backend/weight.h"

#include <cstring>

#include "backend/quant_blocks.h"
#include "common/assert.h"
#include "common/half.h"

namespace sluice {

Weight Weight::from_owned(DType dtype, int64_t rows, int64_t cols, std::vector<uint8_t> bytes) {
  Weight w;
  w.dtype = dtype;
  w.rows = rows;
  w.cols = cols;
  w.owned = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
  w.data = w.owned->data();
  return w;
}

Weight Weight::from_mapped(DType dtype, int64_t rows, int64_t cols, const uint8_t* data) {
  Weight w;
  w.dtype = dtype;
  w.rows = rows;
  w.cols = cols;
  w.data = data;
  return w;
}

BlockQ4G32 rows8_block(const Weight& w, int64_t r, int64_t b) {
  const auto* g = reinterpret_cast<const BlockQ4G32R8*>(w.row(r / 8 * 8));
  return q4g32r8_row_block(g[b], static_cast<int>(r % 8));
}

namespace {

// Rows `rows` of a Q4G32R8 weight as a Q4G32 one (owned).
Weight rows8_to_q4g32(const Weight& w, const std::vector<int64_t>& rows) {
  const int64_t nb = w.cols / kQuantBlock;
  std::vector<uint8_t> bytes(rows.size() * w.row_stride());
  auto* out = reinterpret_cast<BlockQ4G32*>(bytes.data());
  for (size_t i = 0; i < rows.size(); ++i) {
    SLUICE_ASSERT(rows[i] >= 0 && rows[i] < w.rows, "select_rows: row out of range");
    for (int64_t b = 0; b < nb; ++b) out[i * nb + b] = rows8_block(w, rows[i], b);
  }
  return Weight::from_owned(DType::Q4G32, static_cast<int64_t>(rows.size()), w.cols,
                            std::move(bytes));
}

}  // namespace

Weight Weight::rows_view(int64_t first, int64_t count) const {
  if (dtype == DType::Q4G32R8 && (first % 8 != 0 || count % 8 != 0)) {  // not whole groups
    std::vector<int64_t> rows(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) rows[i] = first + i;
    return rows8_to_q4g32(*this, rows);
  }
  Weight w = from_mapped(dtype, count, cols, row(first));
  w.owned = owned;
  return w;
}

Weight Weight::select_rows(const std::vector<int64_t>& rows) const {
  if (dtype == DType::Q4G32R8) return rows8_to_q4g32(*this, rows);
  const size_t stride = row_stride();
  std::vector<uint8_t> bytes(rows.size() * stride);
  for (size_t i = 0; i < rows.size(); ++i) {
    SLUICE_ASSERT(rows[i] >= 0 && rows[i] < this->rows, "select_rows: row out of range");
    std::memcpy(bytes.data() + i * stride, row(rows[i]), stride);
  }
  return from_owned(dtype, static_cast<int64_t>(rows.size()), cols, std::move(bytes));
}

void dequantize_row(const Weight& w, int64_t r, float* out) {
  const uint8_t* p = w.row(r);
  const int64_t nb = w.cols / kQuantBlock;
  switch (w.dtype) {
    case DType::F32:
      for (int64_t i = 0; i < w.cols; ++i) out[i] = reinterpret_cast<const float*>(p)[i];
      return;
    case DType::F16:
      for (int64_t i = 0; i < w.cols; ++i)
        out[i] = f16_to_f32(reinterpret_cast<const uint16_t*>(p)[i]);
      return;
    case DType::BF16:
      for (int64_t i = 0; i < w.cols; ++i)
        out[i] = bf16_to_f32(reinterpret_cast<const uint16_t*>(p)[i]);
      return;
    case DType::Q4G32:
    case DType::Q4G32R8:
      for (int64_t b = 0; b < nb; ++b) {
        const BlockQ4G32 blk = w.dtype == DType::Q4G32R8
                                   ? rows8_block(w, r, b)
                                   : reinterpret_cast<const BlockQ4G32*>(p)[b];
        const float s = f16_to_f32(blk.scale), o = f16_to_f32(blk.offset);
        for (int j = 0; j < 16; ++j) {
          out[b * 32 + j] = s * (blk.codes[j] & 15) + o;
          out[b * 32 + j + 16] = s * (blk.codes[j] >> 4) + o;
        }
      }
      return;
    case DType::Q8G32:
      for (int64_t b = 0; b < nb; ++b) {
        const auto& blk = reinterpret_cast<const BlockQ8G32*>(p)[b];
        const float s = f16_to_f32(blk.scale), o = f16_to_f32(blk.offset);
        for (int j = 0; j < 32; ++j) out[b * 32 + j] = s * blk.codes[j] + o;
      }
      return;
    case DType::Q8G16:
      for (int64_t b = 0; b < nb; ++b) {
        const auto& blk = reinterpret_cast<const BlockQ8G16*>(p)[b];
        for (int j = 0; j < 32; ++j) {
          const int g = j / 16;
          out[b * 32 + j] = f16_to_f32(blk.scale[g]) * blk.codes[j] + f16_to_f32(blk.offset[g]);
        }
      }
      return;
    case DType::Q6G16:
      for (int64_t b = 0; b < nb; ++b) {
        const auto& blk = reinterpret_cast<const BlockQ6G16*>(p)[b];
        for (int j = 0; j < 32; ++j)
          out[b * 32 + j] =
              f16_to_f32(blk.scale[j / 16]) * q6g16_code(blk, j) + 0.0f;  // as Q8G16's
      }
      return;
    case DType::MXFP4:
      for (int64_t b = 0; b < nb; ++b) {
        const auto& blk = reinterpret_cast<const BlockMxfp4*>(p)[b];
        const float s = mxfp4_scale(blk.e);
        for (int j = 0; j < 16; ++j) {
          out[b * 32 + j] = s * kMxfp4Codes[blk.codes[j] & 15];
          out[b * 32 + j + 16] = s * kMxfp4Codes[blk.codes[j] >> 4];
        }
      }
      return;
  }
}

Weight q6g16_to_q8g16(const Weight& w) {
  SLUICE_ASSERT(w.dtype == DType::Q6G16, "q6g16_to_q8g16 takes a Q6G16 weight");
  const int64_t blocks = w.rows * (w.cols / kQuantBlock);
  std::vector<uint8_t> bytes(static_cast<size_t>(blocks) * sizeof(BlockQ8G16));
  const auto* in = reinterpret_cast<const BlockQ6G16*>(w.data);
  auto* out = reinterpret_cast<BlockQ8G16*>(bytes.data());
  for (int64_t b = 0; b < blocks; ++b) {
    for (int g = 0; g < 2; ++g) out[b].scale[g] = in[b].scale[g], out[b].offset[g] = 0;
    for (int j = 0; j < 32; ++j) out[b].codes[j] = static_cast<int8_t>(q6g16_code(in[b], j));
  }
  return Weight::from_owned(DType::Q8G16, w.rows, w.cols, std::move(bytes));
}

Weight q4g32_to_rows8(const Weight& w) {
  SLUICE_ASSERT(w.dtype == DType::Q4G32 && w.rows % 8 == 0,
                "q4g32_to_rows8 takes a Q4G32 weight of rows % 8 == 0");
  const int64_t nb = w.cols / kQuantBlock;
  std::vector<uint8_t> bytes(w.nbytes());
  auto* out = reinterpret_cast<BlockQ4G32R8*>(bytes.data());
  for (int64_t r = 0; r < w.rows; ++r) {
    const auto* in = reinterpret_cast<const BlockQ4G32*>(w.row(r));
    const int l = static_cast<int>(r % 8);
    for (int64_t b = 0; b < nb; ++b) {
      BlockQ4G32R8& g = out[r / 8 * nb + b];
      g.scale[l] = in[b].scale;
      g.offset[l] = in[b].offset;
      for (int j = 0; j < 4; ++j) std::memcpy(g.codes[j] + 4 * l, in[b].codes + 4 * j, 4);
    }
  }
  return Weight::from_owned(DType::Q4G32R8, w.rows, w.cols, std::move(bytes));
}

}  // namespace sluice
