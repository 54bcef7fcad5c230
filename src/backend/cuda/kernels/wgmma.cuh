#pragma once
// Hopper warpgroup MMA (sm_90a only; SLUICE_WGMMA says whether this compilation has it):
// D[64 x N] += A[64 x 16] . B[16 x N], f16 operands, f32 sums, issued asynchronously by the 4
// warps of a warpgroup. A comes from registers (warp w holds rows 16w..16w+15 in mma.sync's
// m16n8k16 A-fragment layout), B from shared memory through a descriptor; D per warp as N/8
// m16n8 C fragments. An A register or D must not be touched until a wait covers its group.
#include <cstdint>

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define SLUICE_WGMMA 1
#else
#define SLUICE_WGMMA 0
#endif

namespace sluice::cuda {

#if SLUICE_WGMMA
// B tile in shared memory, K-major: rows (tokens) of 64 f16 = 128 bytes whose 16-byte pieces are
// swizzled by row & 7 (the 128-byte swizzle), 8-row groups 1024 bytes apart. `p` is the tile's
// 1024-aligned start plus 32 bytes per k16 step.
__device__ __forceinline__ uint64_t sw128_desc(const void* p) {
  const auto addr = static_cast<uint32_t>(__cvta_generic_to_shared(p));
  return uint64_t{(addr & 0x3FFFFu) >> 4} | (uint64_t{1} << 16) |  // leading offset: unused
         (uint64_t{1024 >> 4} << 32) | (uint64_t{1} << 62);        // 8-row stride; 128B swizzle
}

// Orders register writes before the wgmma that reads them.
__device__ __forceinline__ void wgmma_fence() {
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}
__device__ __forceinline__ void wgmma_commit() {
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}
// Waits until at most N committed groups of this warp are in flight.
template <int N>
__device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}
// Keeps the compiler from moving reads or reuse of `r` across a wait (the hardware reads and
// writes these registers behind its back).
__device__ __forceinline__ void wgmma_hold(float& r) {
  asm volatile("" : "+f"(r)::"memory");
}
__device__ __forceinline__ void wgmma_hold(uint32_t& r) {
  asm volatile("" : "+r"(r)::"memory");
}

__device__ __forceinline__ void wgmma_m64n16k16(float* d, const uint32_t* a, uint64_t desc,
                                                int accumulate) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %13, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n16k16.f32.f16.f16 "
      "{%0, %1, %2, %3, %4, %5, %6, %7}, "
      "{%8, %9, %10, %11}, %12, p, 1, 1, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
        "+f"(d[7])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc), "r"(accumulate));
}

__device__ __forceinline__ void wgmma_m64n32k16(float* d, const uint32_t* a, uint64_t desc,
                                                int accumulate) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %21, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n32k16.f32.f16.f16 "
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15}, "
      "{%16, %17, %18, %19}, %20, p, 1, 1, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
        "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
        "+f"(d[14]), "+f"(d[15])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc), "r"(accumulate));
}

__device__ __forceinline__ void wgmma_m64n64k16(float* d, const uint32_t* a, uint64_t desc,
                                                int accumulate) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %37, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 "
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, "
      "%20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, "
      "{%32, %33, %34, %35}, %36, p, 1, 1, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
        "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),
        "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
        "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]),
        "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc), "r"(accumulate));
}

template <int N>
__device__ __forceinline__ void wgmma_f16(float* d, const uint32_t* a, uint64_t desc,
                                          int accumulate) {
  static_assert(N == 16 || N == 32 || N == 64, "token tiles of 16, 32 or 64");
  if constexpr (N == 16)
    wgmma_m64n16k16(d, a, desc, accumulate);
  else if constexpr (N == 32)
    wgmma_m64n32k16(d, a, desc, accumulate);
  else
    wgmma_m64n64k16(d, a, desc, accumulate);
}
#endif

}  // namespace sluice::cuda
