// ggml tensor type names and block sizes.
#include <string>

#include "formats/gguf.h"

namespace sluice {

std::string gguf_type_name(GgufType type) {
  switch (type) {
    case GgufType::F32:
      return "F32";
    case GgufType::F16:
      return "F16";
    case GgufType::Q4_0:
      return "Q4_0";
    case GgufType::Q4_1:
      return "Q4_1";
    case GgufType::Q5_0:
      return "Q5_0";
    case GgufType::Q5_1:
      return "Q5_1";
    case GgufType::Q8_0:
      return "Q8_0";
    case GgufType::Q8_1:
      return "Q8_1";
    case GgufType::Q2_K:
      return "Q2_K";
    case GgufType::Q3_K:
      return "Q3_K";
    case GgufType::Q4_K:
      return "Q4_K";
    case GgufType::Q5_K:
      return "Q5_K";
    case GgufType::Q6_K:
      return "Q6_K";
    case GgufType::Q8_K:
      return "Q8_K";
    case GgufType::BF16:
      return "BF16";
    case GgufType::MXFP4:
      return "MXFP4";
  }
  return "type " + std::to_string(static_cast<uint32_t>(type));
}

bool gguf_type_block(GgufType type, int64_t* block_elems, int64_t* block_bytes) {
  int64_t elems = 0, bytes = 0;
  switch (type) {
    case GgufType::F32:
      elems = 1, bytes = 4;
      break;
    case GgufType::F16:
      elems = 1, bytes = 2;
      break;
    case GgufType::BF16:
      elems = 1, bytes = 2;
      break;
    case GgufType::Q4_0:
      elems = 32, bytes = 18;
      break;  // f16 d + 16 nibble bytes
    case GgufType::Q4_1:
      elems = 32, bytes = 20;
      break;  // f16 d, m + 16 nibble bytes
    case GgufType::Q5_0:
      elems = 32, bytes = 22;
      break;  // f16 d + 4 high-bit bytes + 16 nibble bytes
    case GgufType::Q5_1:
      elems = 32, bytes = 24;
      break;  // f16 d, m + 4 high-bit bytes + 16 nibble bytes
    case GgufType::Q8_0:
      elems = 32, bytes = 34;
      break;  // f16 d + 32 int8
    case GgufType::Q4_K:
      elems = 256, bytes = 144;
      break;
    case GgufType::Q5_K:
      elems = 256, bytes = 176;
      break;
    case GgufType::Q6_K:
      elems = 256, bytes = 210;
      break;
    case GgufType::MXFP4:
      elems = 32, bytes = 17;
      break;  // E8M0 scale + 16 nibble bytes
    default:
      return false;
  }
  if (block_elems) *block_elems = elems;
  if (block_bytes) *block_bytes = bytes;
  return true;
}

int64_t GgufTensorInfo::num_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

}  // namespace sluice
