#pragma once
// Compile-time facts of the quantized weight family's blocks (quant_blocks.h), per dtype.
#include <cstdint>

#include "backend/dtype.h"
#include "backend/quant_blocks.h"

namespace sluice::cpu {

// Groups per block of 32 with their own scale and offset (Q8G16: two of 16).
template <DType T>
constexpr int kGroups = T == DType::Q8G16 ? 2 : 1;
template <DType T>
constexpr int64_t kBlockBytes = T == DType::Q4G32   ? sizeof(BlockQ4G32)
                                : T == DType::Q8G32 ? sizeof(BlockQ8G32)
                                : T == DType::MXFP4 ? sizeof(BlockMxfp4)
                                                    : sizeof(BlockQ8G16);
// Byte offset of the codes in a block (after the half-precision scales and offsets, or MXFP4's
// exponent byte).
template <DType T>
constexpr int64_t kCodesOffset = T == DType::Q8G16   ? 8
                                 : T == DType::MXFP4 ? 1
                                                     : 4;
// Codes of 4 bits, two to a byte (element j low nibble, j + 16 high nibble).
template <DType T>
constexpr bool kNibbles = T == DType::Q4G32 || T == DType::MXFP4;

}  // namespace sluice::cpu
