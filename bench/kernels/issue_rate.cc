// Instruction issue rates of the CPU's multiply pipes, for reading the batched quantized kernels'
// bound: 12 independent accumulator chains per instruction kind, and pairs of kinds mixed (do they
// share pipes?). Prints G instructions per second and the clock from a dependent add chain.
//   bench/kernels/issue_rate.sh
#include <chrono>
#include <cstdio>

namespace {

constexpr long kIters = 50'000'000;

template <class Body>
double rate(int instrs_per_iter, Body body) {
  const auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < kIters; ++i) body();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return static_cast<double>(kIters) * instrs_per_iter / s / 1e9;
}

#define CLOBBERS                                                                           \
  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", \
      "xmm11", "xmm14", "xmm15"
// `op` on register width `w`: accumulator i += f(reg 14, reg 15); X12: accumulators 0..11.
#define ACC(op, w, i) op " %%" w "14, %%" w "15, %%" w #i "\n\t"
// clang-format off
#define X12(op, w)                                                                    \
  ACC(op, w, 0)                                                                       \
  ACC(op, w, 1)                                                                       \
  ACC(op, w, 2) ACC(op, w, 3) ACC(op, w, 4) ACC(op, w, 5) ACC(op, w, 6) ACC(op, w, 7) \
      ACC(op, w, 8) ACC(op, w, 9) ACC(op, w, 10) ACC(op, w, 11)
// clang-format on
#define RATE(n, text) rate(n, [] { asm volatile(text ::: CLOBBERS); })

}  // namespace

int main() {
  __builtin_cpu_init();
  long chain = 0;  // one dependent chain across all iterations: 1 add per cycle
  const double ghz = rate(8, [&chain] {
    asm volatile(
        "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
        "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0"
        : "+r"(chain));
  });
  std::printf("clock (dependent adds): %.2f GHz\n", ghz);
  std::printf("%-34s %8s %12s\n", "instruction", "G/s", "per cycle");
  auto show = [&](const char* name, double g) {
    std::printf("%-34s %8.2f %12.2f\n", name, g, g / ghz);
  };
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    show("ymm vpmaddwd", RATE(12, X12("vpmaddwd", "ymm")));
    show("ymm vfmadd231ps", RATE(12, X12("vfmadd231ps", "ymm")));
  }
  if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl")) {
    show("ymm vpdpwssd", RATE(12, X12("vpdpwssd", "ymm")));
    show("zmm vpdpwssd", RATE(12, X12("vpdpwssd", "zmm")));
    show("zmm vpdpbusd", RATE(12, X12("vpdpbusd", "zmm")));
    show("zmm vfmadd231ps", RATE(12, X12("vfmadd231ps", "zmm")));
    show("zmm vpdpwssd + vfmadd231ps, total",
         RATE(24, X12("vpdpwssd", "zmm") X12("vfmadd231ps", "zmm")));
    show("zmm vpdpwssd + vpaddd, total", RATE(24, X12("vpdpwssd", "zmm") X12("vpaddd", "zmm")));
  }
  return 0;
}
