// Wall time of one Backend::sample_rows call on the CUDA backend (specs up, results down
// included) for several sampling settings, 1 and 64 rows, over rows of logits with a given
// spread (standard deviation); and, as the alternative, the rows copied to the host and drawn
// by SequenceSampler there (one thread). Median of `reps` calls.
//   bench/gpu/build_matmul_bench.sh sample_rows && build/cuda/sample_rows_bench [VOCAB] [REPS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "engine/sampler.h"

using namespace sluice;

namespace {

struct Setting {
  const char* name;
  SamplingParams p;
};

std::vector<Setting> settings() {
  std::vector<Setting> s;
  auto add = [&](const char* name, float t, float top_p, int top_k, float min_p, int logprobs) {
    SamplingParams p;
    p.temperature = t, p.top_p = top_p, p.top_k = top_k, p.min_p = min_p;
    if (logprobs >= 0) p.logprobs = logprobs;
    s.push_back({name, p});
  };
  add("greedy", 0.0f, 1.0f, 0, 0.0f, -1);
  add("T=0.8", 0.8f, 1.0f, 0, 0.0f, -1);
  add("T=0.8 top_p=0.95", 0.8f, 0.95f, 0, 0.0f, -1);
  add("T=0.8 top_k=50", 0.8f, 1.0f, 50, 0.0f, -1);
  add("T=0.8 min_p=0.05", 0.8f, 1.0f, 0, 0.05f, -1);
  add("T=0.8 top_p=0.95 logprobs=5", 0.8f, 0.95f, 0, 0.0f, 5);
  return s;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t vocab = argc > 1 ? std::atoll(argv[1]) : 151936;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 20;
  auto made = make_backend("cuda", 0);
  if (!made.ok()) {
    std::fprintf(stderr, "%s\n", made.error().c_str());
    return 1;
  }
  Backend& gpu = *made.value();
  using Clock = std::chrono::steady_clock;
  std::printf("vocab %lld, median of %d calls, microseconds per call\n",
              static_cast<long long>(vocab), reps);
  std::printf("| setting | spread | GPU 1 row | GPU 64 rows | host 1 row (copy + draw) |\n");
  std::printf("|---|---|---|---|---|\n");
  for (float spread : {1.0f, 3.0f, 10.0f}) {
    const int64_t rows = 64;
    std::mt19937 rng(7);
    std::normal_distribution<float> d(0.0f, spread);
    std::vector<float> x(rows * vocab);
    for (float& v : x) v = d(rng);
    float* dx = static_cast<float*>(gpu.alloc(x.size() * sizeof(float)));
    gpu.to_device(dx, x.data(), x.size() * sizeof(float));
    float* host = static_cast<float*>(gpu.alloc_host(vocab * sizeof(float)));
    for (const Setting& st : settings()) {
      std::vector<std::unique_ptr<SequenceSampler>> seqs;
      for (int64_t r = 0; r < rows; ++r)
        seqs.push_back(std::make_unique<SequenceSampler>(st.p, r, std::vector<int32_t>{}));
      std::vector<RowSampled> out(rows);
      double t_dev[2];
      for (int which = 0; which < 2; ++which) {
        const int64_t n = which == 0 ? 1 : rows;
        std::vector<double> times;
        for (int k = 0; k < reps + 2; ++k) {
          std::vector<RowSampling> specs;
          for (int64_t r = 0; r < n; ++r)
            specs.push_back(seqs[r]->row_sampling(static_cast<int32_t>(r),
                                                  static_cast<int32_t>(vocab), nullptr));
          const auto t0 = Clock::now();
          gpu.sample_rows(dx, vocab, specs, out.data());
          times.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
        }
        times.erase(times.begin(), times.begin() + 2);  // warm-up
        t_dev[which] = median(times);
      }
      std::vector<double> times;
      std::vector<float> row(vocab);
      for (int k = 0; k < reps; ++k) {
        const auto t0 = Clock::now();
        gpu.to_host(host, dx, vocab * sizeof(float));
        row.assign(host, host + vocab);
        seqs[0]->sample(row);
        times.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      }
      std::printf("| %s | %.0f | %.0f | %.0f | %.0f |\n", st.name, spread, t_dev[0], t_dev[1],
                  median(times));
    }
    gpu.release_host(host);
    gpu.release(dx);
  }
  return 0;
}
