#pragma once
// Runtime CPU feature checks for the intrinsics paths (compiled with target attributes, so the
// library itself needs no -m flags and runs on any x86-64).
#if defined(__x86_64__) || defined(__i386__)
#define SLUICE_X86 1
#define SLUICE_AVX2_TARGET __attribute__((target("avx2,fma,f16c")))
#define SLUICE_AVX512_TARGET \
  __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
#else
#define SLUICE_X86 0
#define SLUICE_AVX2_TARGET
#define SLUICE_AVX512_TARGET
#endif

namespace sluice::cpu {

inline bool cpu_has_avx2_fma_f16c() {
#if SLUICE_X86
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                          __builtin_cpu_supports("f16c");
  return has;
#else
  return false;
#endif
}

// AVX-VNNI (vpdpbusd on 256-bit registers), used through inline asm inside AVX2 functions.
inline bool cpu_has_avx_vnni() {
#if SLUICE_X86
  static const bool has = [] {
    __builtin_cpu_init();  // may run before libgcc's own constructor did
    return cpu_has_avx2_fma_f16c() && __builtin_cpu_supports("avxvnni");
  }();
  return has;
#else
  return false;
#endif
}

// AVX512-VNNI with AVX512VL: the same vpdpbusd on 256-bit registers in its EVEX form (CPUs with
// AVX-512 VNNI but without AVX-VNNI, e.g. AMD Zen 4, Intel Ice Lake).
inline bool cpu_has_avx512_vnni_vl() {
#if SLUICE_X86
  static const bool has = [] {
    __builtin_cpu_init();
    return cpu_has_avx2_fma_f16c() && __builtin_cpu_supports("avx512vnni") &&
           __builtin_cpu_supports("avx512vl");
  }();
  return has;
#else
  return false;
#endif
}

// 512-bit registers with vpdpwssd / vpdpbusd (AVX512-VNNI, BW, DQ): the batched kernels' wide path.
inline bool cpu_has_avx512_vnni_zmm() {
#if SLUICE_X86
  static const bool has = [] {
    __builtin_cpu_init();
    return cpu_has_avx512_vnni_vl() && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq");
  }();
  return has;
#else
  return false;
#endif
}

// AMX-INT8 tiles with AVX512-VNNI, and Linux granted this process the tile data state (asked
// once, for the whole process, on the first call; matmul_quant_amx.cc).
bool cpu_has_amx_int8();

// Either encoding of the 256-bit vpdpbusd.
inline bool cpu_has_vnni256() {
  return cpu_has_avx_vnni() || cpu_has_avx512_vnni_vl();
}

}  // namespace sluice::cpu
