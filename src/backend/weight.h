#pragma once
// A weight matrix [rows, cols] (rows = output features, cols = input features), row-major,
// in any DType. Data either points into a mapped file (zero copy) or into owned storage.
#include <cstdint>
#include <memory>
#include <vector>

#include "backend/dtype.h"
#include "backend/quant_blocks.h"

namespace sluice {

struct Weight {
  DType dtype = DType::F32;
  int64_t rows = 0;
  int64_t cols = 0;
  const uint8_t* data = nullptr;
  std::shared_ptr<std::vector<uint8_t>> owned;  // set when data was converted at load
  std::shared_ptr<const void> device;           // set when data is a backend's device copy

  size_t row_stride() const { return row_bytes(dtype, cols); }
  const uint8_t* row(int64_t r) const { return data + static_cast<size_t>(r) * row_stride(); }
  size_t nbytes() const { return static_cast<size_t>(rows) * row_stride(); }
  // Rows [first, first + count) of a host-layout weight, sharing its owned bytes.
  Weight rows_view(int64_t first, int64_t count) const;
  // The rows `rows` of a host-layout weight, in that order, copied into owned bytes.
  Weight select_rows(const std::vector<int64_t>& rows) const;

  // Takes ownership of converted bytes.
  static Weight from_owned(DType dtype, int64_t rows, int64_t cols, std::vector<uint8_t> bytes);
  static Weight from_mapped(DType dtype, int64_t rows, int64_t cols, const uint8_t* data);
};

// Dequantizes/converts row r into out[cols] (reference path; used by embedding lookups).
void dequantize_row(const Weight& w, int64_t r, float* out);

// A Q4G32 weight of rows % 8 == 0 as Q4G32R8 (owned bytes): the CPU's interleaved layout.
Weight q4g32_to_rows8(const Weight& w);

// Row r's block b of a Q4G32R8 weight, as Q4G32.
BlockQ4G32 rows8_block(const Weight& w, int64_t r, int64_t b);

// fn(r, row) for rows [r0, r1) of a Q4G32R8 weight, row r's blocks given as Q4G32 bytes (the
// scalar fallbacks' way of reading it).
template <class Fn>
void for_each_rows8_row(const Weight& w, int64_t r0, int64_t r1, Fn&& fn) {
  std::vector<BlockQ4G32> row(static_cast<size_t>(w.cols / kQuantBlock));
  for (int64_t r = r0; r < r1; ++r) {
    for (size_t b = 0; b < row.size(); ++b) row[b] = rows8_block(w, r, static_cast<int64_t>(b));
    fn(r, reinterpret_cast<const uint8_t*>(row.data()));
  }
}

// A Q6G16 weight as Q8G16 of the same values (owned bytes), for backends without 6-bit kernels.
Weight q6g16_to_q8g16(const Weight& w);

}  // namespace sluice
