#pragma once
// Intel AMX tiles (AMX-TILE + AMX-INT8) for the batched quantized kernels: availability (the
// kernel must grant this process the tile data state), the tile configuration, and the tile
// instructions as inline asm with explicit memory effects (the compiler's own intrinsics
// declare none for tile loads and stores).
#include <cstdint>

#include "backend/cpu/cpu_features.h"

namespace sluice::cpu {

#if SLUICE_X86
namespace amx {

// The 64-byte tile configuration (palette 1): rows and bytes per row of tmm0..tmm7.
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};
static_assert(sizeof(TileConfig) == 64);

inline void load_config(const TileConfig& c) {
  asm volatile("ldtilecfg %0" ::"m"(c));
}
inline void release() {
  asm volatile("tilerelease" ::: "memory");
}

// tmm<T> = rows at p, `stride` bytes apart; and back.
template <int T>
inline void tile_load(const void* p, int64_t stride) {
  asm volatile("tileloadd (%0,%1,1), %%tmm%c2" ::"r"(p), "r"(stride), "i"(T) : "memory");
}
template <int T>
inline void tile_store(void* p, int64_t stride) {
  asm volatile("tilestored %%tmm%c2, (%0,%1,1)" ::"r"(p), "r"(stride), "i"(T) : "memory");
}
template <int T>
inline void tile_zero() {
  asm volatile("tilezero %%tmm%c0" ::"i"(T));
}
// tmm<C> += tmm<A> . tmm<B> over byte quads (int32 sums); the letters of the name say which of
// A and B (in that order) are signed (s) or unsigned (u) bytes.
#define SLUICE_TILE_DP(op)                                                      \
  template <int C, int A, int B>                                                \
  inline void op() {                                                            \
    asm volatile(#op " %%tmm%c2, %%tmm%c1, %%tmm%c0" ::"i"(C), "i"(A), "i"(B)); \
  }
SLUICE_TILE_DP(tdpbuud)
SLUICE_TILE_DP(tdpbusd)
SLUICE_TILE_DP(tdpbsud)
SLUICE_TILE_DP(tdpbssd)
#undef SLUICE_TILE_DP

}  // namespace amx
#endif

}  // namespace sluice::cpu
