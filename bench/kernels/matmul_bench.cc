// Kernel microbenchmark for the CPU backend's matmul.
//   bench/kernels/run.sh              model shapes, single-thread CPU time, n = 1/4/16/64
//   bench/kernels/run.sh rows cols    GB/s of weight bytes (decode) and GFLOP/s (batches)
//   BENCH_INT8=1: the backend's int8-activation mode (changes Q4G32 and Q8G32); BENCH_VNNI=0:
//   its batched kernels without vpdpbusd (the same sums); BENCH_AVX512=0: the batched kernels on
//   256-bit registers where the CPU has AVX512-VNNI (the same bits); BENCH_AMX=0: the batched
//   int16 kernels on AVX-512 instead of AMX tiles where the CPU has AMX-INT8 (the same bits)
// (needs the backend build in BUILD_DIR, default build/be)
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_kernels.h"
#include "backend/quant_blocks.h"
#include "common/half.h"

using namespace sluice;

namespace {

Weight random_weight(DType t, int64_t rows, int64_t cols) {
  std::mt19937 rng(1);
  std::vector<uint8_t> bytes(static_cast<size_t>(rows) * row_bytes(t, cols));
  for (auto& b : bytes) b = static_cast<uint8_t>(rng());
  // Sane halves for scale/offset fields and float types.
  const size_t nb = bytes.size();
  switch (t) {
    case DType::F32:
      for (size_t i = 0; i < nb; i += 4) {
        const float v = static_cast<float>(rng() % 1000) * 1e-4f;
        std::memcpy(&bytes[i], &v, 4);
      }
      break;
    case DType::F16:
    case DType::BF16:
      for (size_t i = 0; i < nb; i += 2) {
        const float v = static_cast<float>(rng() % 1000) * 1e-4f;
        const uint16_t h = t == DType::F16 ? f32_to_f16(v) : f32_to_bf16(v);
        std::memcpy(&bytes[i], &h, 2);
      }
      break;
    default: {
      const size_t bs = row_bytes(t, 32), halves = t == DType::Q8G16 ? 4 : 2;
      for (size_t i = 0; i < nb; i += bs)
        for (size_t k = 0; k < halves; ++k) {
          const uint16_t h = f32_to_f16(0.01f);
          std::memcpy(&bytes[i + 2 * k], &h, 2);
        }
    }
  }
  return Weight::from_owned(t, rows, cols, std::move(bytes));
}

double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// Median wall time per call; *cpu gets the process CPU seconds per call divided by threads
// (robust on a loaded machine, where wall time includes time spent descheduled).
double time_call(Backend& be, const float* x, int64_t n, const Weight& w, float* y, double min_s,
                 int threads, double* cpu) {
  be.matmul(x, n, w, y);  // warm up
  std::vector<double> times;
  const auto start = std::chrono::steady_clock::now();
  const double c0 = cpu_seconds();
  while (true) {
    const auto t0 = std::chrono::steady_clock::now();
    be.matmul(x, n, w, y);
    const auto t1 = std::chrono::steady_clock::now();
    times.push_back(std::chrono::duration<double>(t1 - t0).count());
    if (std::chrono::duration<double>(t1 - start).count() > min_s && times.size() >= 5) break;
  }
  *cpu = (cpu_seconds() - c0) / static_cast<double>(times.size()) / threads;
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];  // median
}

// Peer: the fastest possible read of the same weight bytes (AVX2 loads + adds), same threads.
__attribute__((target("avx2"))) double stream_read(const uint8_t* p, size_t n, int threads) {
  long long total = 0;
#pragma omp parallel for num_threads(threads) reduction(+ : total) schedule(static)
  for (size_t c = 0; c < n / 4096; ++c) {
    __m256i a = _mm256_setzero_si256(), b = _mm256_setzero_si256();
    for (size_t i = c * 4096; i < (c + 1) * 4096; i += 64) {
      a = _mm256_add_epi64(a, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i)));
      b = _mm256_add_epi64(b, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 32)));
    }
    a = _mm256_add_epi64(a, b);
    total += _mm256_extract_epi64(a, 0) + _mm256_extract_epi64(a, 3);
  }
  return static_cast<double>(total);
}

double time_stream(const Weight& w, int threads) {
  volatile double sink = stream_read(w.data, w.nbytes(), threads);
  std::vector<double> times;
  for (int it = 0; it < 50; ++it) {
    const auto t0 = std::chrono::steady_clock::now();
    sink = sink + stream_read(w.data, w.nbytes(), threads);
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

double thread_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// Single-thread CPU seconds per call: minimum over `reps` runs of >= 5 ms each (a shared,
// noisy machine only ever adds time).
double min_thread_time(Backend& be, const float* x, int64_t n, const Weight& w, float* y,
                       int reps) {
  be.matmul(x, n, w, y);  // warm up
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const double t0 = thread_seconds();
    int calls = 0;
    double t1 = t0;
    do {
      be.matmul(x, n, w, y);
      ++calls;
      t1 = thread_seconds();
    } while (t1 - t0 < 0.005);
    best = std::min(best, (t1 - t0) / calls);
  }
  return best;
}

bool env_is(const char* name, const char* value) {
  const char* v = std::getenv(name);
  return v != nullptr && std::string(v) == value;
}

// The backend of BENCH_INT8, BENCH_VNNI, BENCH_AVX512 and BENCH_AMX.
std::unique_ptr<Backend> bench_backend(int threads) {
  cpu::QuantPaths paths = cpu::default_quant_paths();
  if (env_is("BENCH_VNNI", "0")) paths.dot8 = cpu::Dot8::Maddubs;
  if (env_is("BENCH_AVX512", "0")) paths.avx512 = false;
  if (env_is("BENCH_AMX", "0")) paths.amx = false;
  return cpu::make_cpu_backend(threads, env_is("BENCH_INT8", "1"), paths);
}

struct ModelShape {
  const char* name;
  DType dtype;
  int64_t rows, cols;
};

// Matmuls of SmolLM2-135M (hidden 576, intermediate 1536, vocab 49152) and Qwen3-0.6B
// (hidden 1024, intermediate 3072); the quantized family at each model's usual dtypes.
int model_shapes() {
  const ModelShape shapes[] = {
      {"smol.qo", DType::Q4G32, 576, 576},         {"smol.kv", DType::Q4G32, 192, 576},
      {"smol.gate_up", DType::Q4G32, 1536, 576},   {"smol.down", DType::Q4G32, 576, 1536},
      {"smol.lm_head", DType::Q8G32, 49152, 576},  {"smol.down8", DType::Q8G32, 576, 1536},
      {"qwen.q", DType::Q4G32, 2048, 1024},        {"qwen.gate_up", DType::Q4G32, 3072, 1024},
      {"qwen.down", DType::Q4G32, 1024, 3072},     {"qwen.down6", DType::Q8G16, 1024, 3072},
      {"qwen.gate_up8", DType::Q8G32, 3072, 1024},
  };
  const char* only = std::getenv("BENCH_SHAPE");
  const int reps = std::getenv("BENCH_REPS") ? std::atoi(std::getenv("BENCH_REPS")) : 20;
  const int64_t n_list[] = {1, 4, 16, 64};
  std::vector<float> x(static_cast<size_t>(64 * 3072));
  std::mt19937 rng(2);
  std::normal_distribution<float> nd;
  for (auto& v : x) v = nd(rng);
  std::printf(
      "single-thread CPU time, min of %d; ns/rb = ns per (activation row x weight row x "
      "block of 32); rel = cost per activation row vs n = 1\n",
      reps);
  std::printf("%-14s %-6s %6s %5s %3s %10s %8s %6s %8s\n", "shape", "dtype", "rows", "cols", "n",
              "us/call", "ns/rb", "rel", "GB/s(w)");
  auto be = bench_backend(1);
  for (const ModelShape& s : shapes) {
    if (only && std::string(only) != s.name) continue;
    const Weight w = random_weight(s.dtype, s.rows, s.cols);
    std::vector<float> y(static_cast<size_t>(64 * s.rows));
    double t1 = 0;
    for (int64_t n : n_list) {
      const double t = min_thread_time(*be, x.data(), n, w, y.data(), reps);
      if (n == 1) t1 = t;
      const double rb = static_cast<double>(n) * s.rows * (s.cols / 32);
      std::printf("%-14s %-6s %6lld %5lld %3lld %10.1f %8.3f %6.3f %8.2f\n", s.name,
                  dtype_name(s.dtype), static_cast<long long>(s.rows),
                  static_cast<long long>(s.cols), static_cast<long long>(n), t * 1e6, t * 1e9 / rb,
                  t / n / t1, static_cast<double>(w.nbytes()) / t / 1e9);
      std::fflush(stdout);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return model_shapes();
  const int64_t rows = std::atoll(argv[1]);
  const int64_t cols = std::atoll(argv[2]);
  const double min_s = 1.0;
  std::vector<float> x(static_cast<size_t>(512 * cols));
  std::mt19937 rng(2);
  std::normal_distribution<float> nd;
  for (auto& v : x) v = nd(rng);
  std::vector<float> y(static_cast<size_t>(512 * rows));
  std::printf("matmul [%lld x %lld], median of >= 1 s per point\n", static_cast<long long>(rows),
              static_cast<long long>(cols));
  const char* only = std::getenv("BENCH_DTYPE");
  const char* ns = std::getenv("BENCH_N");
  std::vector<int64_t> n_list = {1, 4, 512};
  if (ns) n_list = {std::atoll(ns)};
  std::printf("%-6s %3s %5s %10s %10s %10s %12s %12s\n", "dtype", "thr", "n", "ms/call", "GB/s(w)",
              "GFLOP/s", "cpu-ms/thr", "GB/s(cpu)");
  for (DType t : {DType::Q4G32, DType::Q4G32R8, DType::Q8G32, DType::Q8G16, DType::F16, DType::BF16,
                  DType::F32}) {
    if (only && std::string(only) != dtype_name(t)) continue;
    if (t == DType::Q4G32R8 && rows % 8 != 0) continue;
    // Q4G32R8: the interleaved layout of Q4G32 (either activation mode: BENCH_INT8).
    const Weight w = t == DType::Q4G32R8 ? q4g32_to_rows8(random_weight(DType::Q4G32, rows, cols))
                                         : random_weight(t, rows, cols);
    for (int threads : {1, 2}) {
      const double st = time_stream(w, threads);
      std::printf("%-6s %3d %5s %10.3f %10.2f   (peer: plain AVX2 read of the same bytes)\n",
                  dtype_name(t), threads, "read", st * 1e3,
                  static_cast<double>(w.nbytes()) / st / 1e9);
      auto be = bench_backend(threads);
      for (int64_t n : n_list) {
        double cpu = 0;
        const double s = time_call(*be, x.data(), n, w, y.data(), min_s, threads, &cpu);
        std::printf("%-6s %3d %5lld %10.3f %10.2f %10.1f %12.3f %12.2f\n", dtype_name(t), threads,
                    static_cast<long long>(n), s * 1e3, static_cast<double>(w.nbytes()) / s / 1e9,
                    2.0 * rows * cols * n / s / 1e9, cpu * 1e3,
                    static_cast<double>(w.nbytes()) / cpu / 1e9);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
