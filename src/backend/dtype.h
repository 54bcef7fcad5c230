#pragma once
// Weight element types. Every quantized file format (GGUF Q4_0/Q4_1/Q8_0/Q4_K/Q5_K/Q6_K,
// MLX affine 4/8-bit) is repacked at load into ONE family: per-group scale + offset codes,
//   w = scale * code + offset,
// with groups aligned to blocks of 32 input columns (see quant_blocks.h). MXFP4 is the family's
// member with a power-of-two scale, offset 0 and codes from a table (E2M1 values).
#include <cstddef>
#include <cstdint>

namespace sluice {

enum class DType : uint8_t {
  F32,
  F16,
  BF16,
  Q4G32,    // 4-bit unsigned codes, one group of 32           (BlockQ4G32, 20 bytes / 32)
  Q8G32,    // 8-bit signed codes, one group of 32             (BlockQ8G32, 36 bytes / 32)
  Q8G16,    // 8-bit signed codes, two groups of 16 per block  (BlockQ8G16, 40 bytes / 32)
  MXFP4,    // 4-bit E2M1 codes, one power-of-two scale per 32  (BlockMxfp4, 17 bytes / 32)
  Q6G16,    // 6-bit signed codes, two groups of 16, offset 0   (BlockQ6G16, 28 bytes / 32)
  Q4G32R8,  // Q4G32 with rows interleaved in eights (BlockQ4G32R8: 8 rows' blocks, CPU int8)
};

constexpr int64_t kQuantBlock = 32;

// Members of the family that only some backends read (optional_dtypes_for); a load picks
// them where a file's type allows: Q6_K as Q6G16 (0.875 bytes a weight), not Q8G16 (1.25).
struct OptionalDTypes {
  bool q6g16 = false;
  bool q4g32_rows8 = false;  // Q4G32 matrices of rows % 8 == 0 as Q4G32R8
};                           // input columns per quantized block

bool is_quantized(DType t);
const char* dtype_name(DType t);
// Bytes of one row of `cols` elements (cols % 32 == 0 for quantized types).
size_t row_bytes(DType t, int64_t cols);

}  // namespace sluice
