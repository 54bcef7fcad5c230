#pragma once
// Highway targets compiled for dynamic dispatch in the CPU backend: AVX-512 (AVX3), AVX2, SSE4
// and the portable fallback. Include before <hwy/highway.h> / <hwy/foreach_target.h>.
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_AVX3_DL)
#endif
