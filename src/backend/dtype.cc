#include "backend/dtype.h"

#include "backend/quant_blocks.h"
#include "common/assert.h"

namespace sluice {

bool is_quantized(DType t) {
  return t == DType::Q4G32 || t == DType::Q8G32 || t == DType::Q8G16 || t == DType::MXFP4 ||
         t == DType::Q6G16 || t == DType::Q4G32R8;
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32:
      return "f32";
    case DType::F16:
      return "f16";
    case DType::BF16:
      return "bf16";
    case DType::Q4G32:
      return "q4g32";
    case DType::Q8G32:
      return "q8g32";
    case DType::Q8G16:
      return "q8g16";
    case DType::MXFP4:
      return "mxfp4";
    case DType::Q6G16:
      return "q6g16";
    case DType::Q4G32R8:
      return "q4g32r8";
  }
  return "?";
}

size_t row_bytes(DType t, int64_t cols) {
  const auto n = static_cast<size_t>(cols);
  switch (t) {
    case DType::F32:
      return n * 4;
    case DType::F16:
    case DType::BF16:
      return n * 2;
    case DType::Q4G32:
    case DType::Q4G32R8:  // rows interleaved, the same bytes
      return n / kQuantBlock * sizeof(BlockQ4G32);
    case DType::Q8G32:
      return n / kQuantBlock * sizeof(BlockQ8G32);
    case DType::Q8G16:
      return n / kQuantBlock * sizeof(BlockQ8G16);
    case DType::MXFP4:
      return n / kQuantBlock * sizeof(BlockMxfp4);
    case DType::Q6G16:
      return n / kQuantBlock * sizeof(BlockQ6G16);
  }
  SLUICE_ASSERT(false, "unknown dtype");
  return 0;
}

}  // namespace sluice
