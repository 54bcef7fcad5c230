// GPU time of Backend::matmul on the CUDA backend for one weight shape over batch sizes: the
// fused quantized GEMM (qgemm) against dequantize + cuBLAS (SLUICE_CUDA_QGEMM_MAX_ROWS=0), in
// one process. Weights rotate among copies larger than L2 together; each figure is the median
// over rounds of `reps` back-to-back products divided by reps.
// With `env` after the format: Backend::matmul as the backend picks its kernel, as built and
// under each VAR=VALUE given, each output against the first (n <= 8: the weight-streaming path,
// activation quantization included; 9 to 128 rows: the fused GEMM).
//   bench/gpu/build_matmul_bench.sh && build/cuda/matmul_gpu_bench ROWS COLS [q4|q8|q8g16|bf16]
//   [N,N..] build/cuda/matmul_gpu_bench ROWS COLS q4 env N,N.. [VAR=VALUE ...]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/quant_blocks.h"
#include "common/half.h"

using namespace sluice;

namespace {

// Random codes; every block's scale 0.01 and offset -0.05 (a sane weight range).
Weight random_weight(DType t, int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> bytes(static_cast<size_t>(rows) * row_bytes(t, cols));
  for (auto& b : bytes) b = static_cast<uint8_t>(rng());
  if (!is_quantized(t)) {  // small finite 16-bit floats: random mantissa and sign, exponent ~2^-7
    for (size_t i = 1; i < bytes.size(); i += 2)
      bytes[i] = static_cast<uint8_t>((bytes[i] & 0x80) | 0x3c);
    return Weight::from_owned(t, rows, cols, std::move(bytes));
  }
  const size_t bs = row_bytes(t, 32), pairs = t == DType::Q8G16 ? 2 : 1;
  const uint16_t scale = f32_to_f16(0.01f), offset = f32_to_f16(-0.05f);
  for (size_t i = 0; i < bytes.size(); i += bs)
    for (size_t k = 0; k < pairs; ++k) {
      std::memcpy(&bytes[i + 2 * k], &scale, 2);
      std::memcpy(&bytes[i + 2 * pairs + 2 * k], &offset, 2);
    }
  return Weight::from_owned(t, rows, cols, std::move(bytes));
}

std::unique_ptr<Backend> cuda_backend(const char* var, const std::string& value) {
  setenv(var, value.c_str(), 1);
  auto be = make_backend("cuda", 0);
  unsetenv(var);
  if (!be.ok()) {
    std::fprintf(stderr, "%s\n", be.error().c_str());
    std::exit(1);
  }
  return std::move(be.value());
}

// Seconds per product: median of rounds of `reps` products (rotating weights), one sync each.
double time_products(Backend& be, const float* x, int64_t n, const std::vector<Weight>& ws,
                     float* y) {
  float sink = 0;
  for (const Weight& w : ws) be.matmul(x, n, w, y);  // warm-up: kernels loaded, scratch grown
  be.to_host(&sink, y, sizeof(float));
  const int reps = 20;
  std::vector<double> rounds;
  for (int r = 0; r < 7; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) be.matmul(x, n, ws[i % ws.size()], y);
    be.to_host(&sink, y, sizeof(float));
    rounds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() /
                     reps);
  }
  std::sort(rounds.begin(), rounds.end());
  return rounds[rounds.size() / 2];
}

}  // namespace

// Seconds per product at each n as built and under each "VAR=VALUE" of `envs`, and
// the largest relative difference of each output from the first's.
int env_main(int64_t rows, int64_t cols, DType t, const std::vector<int64_t>& ns,
             const std::vector<std::string>& envs) {
  const int kVariants = static_cast<int>(envs.size()) + 1;
  const int64_t wbytes = rows * row_bytes(t, cols);
  const int copies = static_cast<int>(std::max<int64_t>(2, (200LL << 20) / wbytes + 1));
  const int64_t nmax = *std::max_element(ns.begin(), ns.end());
  std::vector<float> hx(nmax * cols);
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (auto& v : hx) v = normal(rng);
  std::printf("%s [%lld x %lld], %.1f MB per weight, %d copies; us per product (weight GB/s)\n",
              dtype_name(t), static_cast<long long>(rows), static_cast<long long>(cols),
              wbytes / 1e6, copies);
  std::printf("| n | as built |");
  for (const std::string& e : envs) std::printf(" %s |", e.c_str());
  std::printf(" max rel diff |\n|---:|");
  for (int v = 0; v <= kVariants; ++v) std::printf("---:|");
  std::printf("\n");
  std::vector<std::unique_ptr<Backend>> bes;
  std::vector<std::vector<Weight>> ws(kVariants);
  std::vector<float*> xs, ys;
  for (int v = 0; v < kVariants; ++v) {
    if (v == 0) {
      auto be = make_backend("cuda", 0);
      if (!be.ok()) return std::fprintf(stderr, "%s\n", be.error().c_str()), 1;
      bes.push_back(std::move(be.value()));
    } else {
      const std::string& e = envs[v - 1];
      const size_t eq = e.find('=');
      bes.push_back(cuda_backend(e.substr(0, eq).c_str(), e.substr(eq + 1)));
    }
    for (int i = 0; i < copies; ++i)
      ws[v].push_back(bes[v]->place(random_weight(t, rows, cols, 1 + i)));
    xs.push_back(static_cast<float*>(bes[v]->alloc(hx.size() * sizeof(float))));
    ys.push_back(static_cast<float*>(bes[v]->alloc(nmax * rows * sizeof(float))));
    bes[v]->to_device(xs[v], hx.data(), hx.size() * sizeof(float));
  }
  for (int64_t n : ns) {
    std::printf("| %lld |", static_cast<long long>(n));
    std::vector<float> base(n * rows), got(n * rows);
    double worst = 0;
    for (int v = 0; v < kVariants; ++v) {
      const double s = time_products(*bes[v], xs[v], n, ws[v], ys[v]);
      std::printf(" %.1f (%.0f) |", s * 1e6, wbytes / s / 1e9);
      bes[v]->matmul(xs[v], n, ws[v][0], ys[v]);
      bes[v]->to_host((v == 0 ? base : got).data(), ys[v], got.size() * sizeof(float));
      for (size_t i = 0; v > 0 && i < got.size(); ++i)
        worst = std::max(worst, std::abs(static_cast<double>(got[i]) - base[i]) /
                                    (std::abs(static_cast<double>(base[i])) + 1e-3));
    }
    std::printf(" %.2g |\n", worst);
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s ROWS COLS [q4|q8|q8g16|bf16] [N,N,...]\n", argv[0]);
    return 2;
  }
  const int64_t rows = std::atoll(argv[1]), cols = std::atoll(argv[2]);
  const std::string fmt = argc > 3 ? argv[3] : "q4";
  const DType t = fmt == "q8"      ? DType::Q8G32
                  : fmt == "q8g16" ? DType::Q8G16
                  : fmt == "bf16"  ? DType::BF16
                                   : DType::Q4G32;
  const bool envs = argc > 4 && std::string(argv[4]) == "env";
  const int nsarg = envs ? 5 : 4;
  std::vector<int64_t> ns;
  for (const char* p = argc > nsarg ? argv[nsarg]
                       : envs       ? "1,2,4,8"
                                    : "16,32,64,128,256,512,1024,2048";
       *p;) {
    ns.push_back(std::strtoll(p, const_cast<char**>(&p), 10));
    if (*p == ',') ++p;
  }
  if (envs)
    return env_main(rows, cols, t, ns,
                    std::vector<std::string>(argv + std::min(argc, 6), argv + argc));
  auto fused =
      cuda_backend("SLUICE_CUDA_QGEMM_MAX_ROWS", "1000000");  // every n on the fused kernel
  auto dequant = cuda_backend("SLUICE_CUDA_QGEMM_MAX_ROWS", "0");
  fused->set_batch_invariant(false);
  dequant->set_batch_invariant(false);
  const int64_t wbytes = rows * row_bytes(t, cols);
  const int copies = static_cast<int>(std::max<int64_t>(2, (200LL << 20) / wbytes + 1));
  std::vector<Weight> wf, wd;
  for (int i = 0; i < copies; ++i) {
    const Weight w = random_weight(t, rows, cols, 1 + i);
    wf.push_back(fused->place(w));
    wd.push_back(dequant->place(w));
  }
  const int64_t nmax = *std::max_element(ns.begin(), ns.end());
  std::vector<float> hx(nmax * cols);
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (auto& v : hx) v = normal(rng);
  auto buffers = [&](Backend& be, float** x, float** y) {
    *x = static_cast<float*>(be.alloc(hx.size() * sizeof(float)));
    *y = static_cast<float*>(be.alloc(nmax * rows * sizeof(float)));
    be.to_device(*x, hx.data(), hx.size() * sizeof(float));
  };
  float *fx, *fy, *dx, *dy;
  buffers(*fused, &fx, &fy);
  buffers(*dequant, &dx, &dy);
  std::printf("%s [%lld x %lld], %.1f MB per weight, %d copies\n", dtype_name(t),
              static_cast<long long>(rows), static_cast<long long>(cols), wbytes / 1e6, copies);
  std::printf(
      "| n | qgemm us | dequantize + cuBLAS us | speed-up | qgemm weight GB/s | qgemm TFLOP/s |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|\n");
  for (int64_t n : ns) {
    const double tf = time_products(*fused, fx, n, wf, fy);
    const double td = time_products(*dequant, dx, n, wd, dy);
    std::printf("| %lld | %.1f | %.1f | %.2fx | %.0f | %.1f |\n", static_cast<long long>(n),
                tf * 1e6, td * 1e6, td / tf, wbytes / tf / 1e9, 2.0 * n * rows * cols / tf / 1e12);
  }
  return 0;
}
