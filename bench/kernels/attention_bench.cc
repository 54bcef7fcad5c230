// Attention of the CPU backend alone: S sequences, T query tokens each (1: decode; more: a
// prefill chunk ending at context C, as a later agent turn over a cached prefix) at context C,
// heads H over KV heads KVH of head_dim D, blocks shuffled, cache f16 (the CPU default) or f32
// (SLUICE_BENCH_KV=f32). Reports µs per call with the cache hot (the same layer again) and cold
// (L layers in turn, each its own cache).
// Usage: attention_bench [S C H KVH D L W BLOCKS T]
//   default, SmolLM2 at 16 sequences:          16 80 9 3 64 30
//   Qwen3-0.6B shape:                          16 80 16 8 128 28
//   Qwen3.5-0.8B shape, a 256-token chunk at 4k: 1 4096 8 2 256 2 4 0 256
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "common/half.h"

using namespace sluice;

int main(int argc, char** argv) {
  auto arg = [&](int i, int64_t d) -> int64_t { return argc > i ? std::atoll(argv[i]) : d; };
  const int64_t S = arg(1, 16), C = arg(2, 80), H = arg(3, 9), KVH = arg(4, 3), D = arg(5, 64),
                L = arg(6, 30), W = arg(7, 4), T = arg(9, 1), bs = 16;
  const int64_t blocks_per_seq = (C + bs - 1) / bs;
  const int64_t num_blocks = std::max(arg(8, 0), S * blocks_per_seq + 1);
  const int64_t kv_row = KVH * D;
  std::mt19937 rng(1);
  std::normal_distribution<float> nd;
  const char* kv_env = std::getenv("SLUICE_BENCH_KV");
  const bool f32 = kv_env != nullptr && std::string(kv_env) == "f32";
  const int64_t elem = f32 ? 4 : 2;
  std::vector<std::vector<uint8_t>> k(L), v(L);  // [num_blocks, bs, KVH, D] of f32 or f16
  for (int64_t l = 0; l < L; ++l) {
    for (auto* c : {&k[l], &v[l]}) {
      c->resize(num_blocks * bs * kv_row * elem);
      for (int64_t i = 0; i < num_blocks * bs * kv_row; ++i) {
        const float x = nd(rng);
        if (f32)
          reinterpret_cast<float*>(c->data())[i] = x;
        else
          reinterpret_cast<uint16_t*>(c->data())[i] = f32_to_f16(x);
      }
    }
  }
  std::vector<int32_t> ids(num_blocks - 1);
  std::iota(ids.begin(), ids.end(), 1);
  std::shuffle(ids.begin(), ids.end(), rng);  // as a pool hands blocks out after some churn
  ids.resize(S * blocks_per_seq);
  std::vector<int32_t> qs(S + 1), pos(S * T);
  for (int64_t s = 0; s <= S; ++s) qs[s] = static_cast<int32_t>(s * T);
  for (int64_t i = 0; i < S * T; ++i) pos[i] = static_cast<int32_t>(C - T + i % T);
  std::vector<float> q(S * T * H * D), out(S * T * H * D);
  for (float& x : q) x = nd(rng);
  AttentionBatch batch;
  batch.num_seqs = S;
  batch.num_tokens = S * T;
  batch.max_context = C;
  batch.query_start = batch.host_query_start = qs.data();
  batch.positions = batch.host_positions = pos.data();
  batch.block_tables = ids.data();
  batch.max_blocks_per_seq = blocks_per_seq;
  auto be = make_cpu_backend(0);
  std::vector<float> other(static_cast<size_t>(W) * (1 << 20) / sizeof(float), 1.0f);
  float sink = 0.0f;
  auto time = [&](bool cold, bool flush) {
    double best = 1e30;
    for (int rep = 0; rep < 10; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      double flush_us = 0.0;
      for (int64_t l = 0; l < L; ++l) {
        if (flush) {  // untimed: read the other data
          const auto f0 = std::chrono::steady_clock::now();
          for (size_t i = 0; i < other.size(); i += 16) sink += other[i];
          flush_us +=
              std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - f0)
                  .count();
        }
        const int64_t c = cold ? l : 0;
        KvLayerView view{
            k[c].data(), v[c].data(), num_blocks, bs, KVH, D, f32 ? KvDtype::F32 : KvDtype::F16};
        be->paged_attention(q.data(), H, view, batch, 0.125f, out.data());
      }
      const double us =
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() -
          flush_us;
      best = std::min(best, us / static_cast<double>(L));
    }
    return best;
  };
  const double kv_mb = 2.0 * S * C * kv_row * elem / 1e6;
  std::printf("S=%lld T=%lld C=%lld H=%lld KVH=%lld D=%lld, %s cache: %.2f MB of K/V per layer\n",
              (long long)S, (long long)T, (long long)C, (long long)H, (long long)KVH, (long long)D,
              f32 ? "f32" : "f16", kv_mb);
  std::printf("hot:  %.1f us per call\n", time(false, false));
  std::printf("cold: %.1f us per call (%lld layers in turn)\n", time(true, false), (long long)L);
  std::printf("flushed: %.1f us per call (%lld MB read between layers)\n", time(true, true),
              (long long)W);
  std::printf("(%g)\n", sink > 0 ? 0.0 : 1.0);
}
