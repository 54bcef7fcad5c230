#pragma once
// Repacks quantized tensors of every file format into the ONE internal family (backend/dtype.h).
// Lossless: only the half-precision rounding of derived scales/offsets (e.g. Q4_K d*sc) differs.
//   GGUF Q4_1 -> Q4G32 (zero copy)   Q4_0 -> Q4G32 (offset = -8d)   Q8_0 -> Q8G32 (offset 0)
//   GGUF Q4_K -> Q4G32               Q5_K -> Q8G32 (5-bit codes)    Q6_K -> Q8G16 (or Q6G16)
//   GGUF Q5_0 -> Q8G32 (codes q-16)  Q5_1 -> Q8G32 (codes 0..31)
//   GGUF MXFP4 -> MXFP4 (zero copy)  HF (OCP) MXFP4 -> MXFP4 (nibbles reordered)
//   MLX affine 4-bit (group 32/64/128) -> Q4G32;  MLX affine 8-bit -> Q8G32 (codes re-centred)
#include <cstdint>
#include <vector>

#include "backend/weight.h"
#include "common/status.h"
#include "formats/gguf.h"

namespace sluice {

// A GGUF tensor of `rows` x `cols` (cols = innermost) into a Weight. F32/F16/BF16 map without
// copying; quantized types become the internal family.
Result<Weight> import_gguf_tensor(const GgufTensorInfo& t, int64_t rows, int64_t cols,
                                  OptionalDTypes dtypes = {});

// w as Q4G32R8 where `dtypes` picks it, w is Q4G32 and each of its matrices (`rows` rows: a
// stacked experts tensor's per expert) is whole groups of 8 rows; else w as it is.
Result<Weight> rows8_if_picked(Result<Weight> w, int64_t rows, OptionalDTypes dtypes);

enum class MlxScaleType { F32, F16, BF16 };
// MLX affine quantization: packed [rows, cols*bits/32] uint32 (element k of a word at bits
// k*bits), scales and biases [rows, cols/group_size]; w = scale*q + bias.
Result<Weight> import_mlx_quantized(const uint32_t* packed, const void* scales, const void* biases,
                                    MlxScaleType scale_type, int bits, int group_size, int64_t rows,
                                    int64_t cols);

// OCP MXFP4 as Hugging Face stores it (gpt-oss "*_blocks" / "*_scales"): blocks [rows, cols/32,
// 16] bytes, element 2k of a block in the low nibble of byte k and 2k+1 in the high one; scales
// [rows, cols/32] E8M0 exponents (2^(e-127)). Lossless, as GGUF MXFP4.
Result<Weight> import_mxfp4_ocp(const uint8_t* blocks, const uint8_t* scales, int64_t rows,
                                int64_t cols);

}  // namespace sluice
