#pragma once
// Q6G16's codes (quant_blocks.h) unpacked from the words the CUDA kernels load: plain integer
// code, compiled for the device and for the CPU unit test that checks it (q6_codes_test.cc).
#include <cstdint>

#ifdef __CUDACC__
#define SLUICE_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define SLUICE_HOST_DEVICE inline
#endif

namespace sluice::cuda {

// Four codes as signed bytes times 4 (the 6-bit two's complement in bits 2-7): elements 4k ..
// 4k+3 (half 0) or 16 + 4k .. (half 1), from low-nibble word k and the half's high-bit word.
SLUICE_HOST_DEVICE uint32_t q6_codes4(uint32_t lo_word, uint32_t hi_word, int k, int half) {
  return (((lo_word >> (4 * half)) & 0x0F0F0F0Fu) << 2) |
         (((hi_word >> (2 * k)) & 0x03030303u) << 6);
}

// Bytes `first` and first + 1 of w as the low bytes of two 16-bit lanes (a prmt on the device).
SLUICE_HOST_DEVICE uint32_t byte_lanes(uint32_t w, int first) {
  return ((w >> (8 * first)) & 0xFFu) | (((w >> (8 * first + 8)) & 0xFFu) << 16);
}

// The codes of elements 2t, 2t+1 (+ 8j) of group `half` (t: a lane's index in its quad, 0-3),
// from c = the low-nibble bytes 2t, 2t+1 (+ 8j) as byte_lanes gives them and the group's
// high-bit word hb, as (1056 + code) f16 bit patterns (bit 5 flipped: code + 32 in 0-63).
SLUICE_HOST_DEVICE uint32_t q6_pair(uint32_t c, uint32_t hb, int t, int j, int half) {
  const uint32_t h = byte_lanes(hb >> (2 * (2 * j + (t >> 1))), 2 * (t & 1)) & 0x00030003u;
  return ((((c >> (4 * half)) & 0x000F000Fu) | (h << 4)) ^ 0x00200020u) | 0x64006400u;
}

}  // namespace sluice::cuda
