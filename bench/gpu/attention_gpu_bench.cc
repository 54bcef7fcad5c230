// GPU time of Backend::paged_attention on the CUDA backend for decode batches: S sequences of one
// token each at context C, H query heads over KVH KV heads of head_dim D, L layers (each its own
// f16 cache, blocks shuffled), recorded as one graph of L calls (as a decode step runs them) and
// replayed; reports µs per call (median of rounds). Run it under the environment to compare
// (SLUICE_CUDA_DECODE_* switches).
//   bench/gpu/build_matmul_bench.sh attention && build/cuda/attention_gpu_bench S C H KVH D L
//   Qwen3-30B-A3B shape at ~600 positions: 1 600 32 4 128 48
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <vector>

#include "backend/backend.h"
#include "common/half.h"

using namespace sluice;

int main(int argc, char** argv) {
  auto arg = [&](int i, int64_t d) -> int64_t { return argc > i ? std::atoll(argv[i]) : d; };
  const int64_t S = arg(1, 1), C = arg(2, 600), H = arg(3, 32), KVH = arg(4, 4), D = arg(5, 128),
                L = arg(6, 48), bs = 16;
  auto made = make_backend("cuda", 0);
  if (!made.ok()) {
    std::fprintf(stderr, "%s\n", made.error().c_str());
    return 1;
  }
  Backend& be = *made.value();
  const int64_t per_seq = (C + bs - 1) / bs, num_blocks = S * per_seq + 1;
  const size_t cache_halfs = static_cast<size_t>(num_blocks * bs * KVH * D);
  std::mt19937 rng(1);
  std::normal_distribution<float> nd;
  std::vector<uint16_t> host(cache_halfs);  // the same values in every layer's own memory
  for (auto& h : host) h = f32_to_f16(nd(rng));
  std::vector<KvLayerView> layers(static_cast<size_t>(L));
  for (auto& c : layers) {
    c.num_blocks = num_blocks, c.block_size = bs, c.num_kv_heads = KVH, c.head_dim = D;
    c.dtype = KvDtype::F16;
    for (void** p : {&c.k, &c.v}) {
      *p = be.alloc(cache_halfs * 2);
      be.to_device(*p, host.data(), cache_halfs * 2);
    }
  }
  std::vector<int32_t> blocks(static_cast<size_t>(num_blocks - 1));
  std::iota(blocks.begin(), blocks.end(), 1);
  std::shuffle(blocks.begin(), blocks.end(), rng);
  std::vector<int32_t> qs(static_cast<size_t>(S + 1)), pos(static_cast<size_t>(S), C - 1);
  std::iota(qs.begin(), qs.end(), 0);
  auto dev_ints = [&](const std::vector<int32_t>& v) {
    void* p = be.alloc(v.size() * 4);
    be.to_device(p, v.data(), v.size() * 4);
    return static_cast<const int32_t*>(p);
  };
  AttentionBatch b;
  b.num_seqs = S, b.num_tokens = S, b.max_context = C, b.max_blocks_per_seq = per_seq;
  b.query_start = dev_ints(qs), b.positions = dev_ints(pos), b.block_tables = dev_ints(blocks);
  b.host_query_start = qs.data(), b.host_positions = pos.data(), b.id = 1;
  std::vector<float> qh(static_cast<size_t>(S * H * D));
  for (auto& v : qh) v = nd(rng);
  float* q = static_cast<float*>(be.alloc(qh.size() * 4));
  float* out = static_cast<float*>(be.alloc(qh.size() * 4));
  be.to_device(q, qh.data(), qh.size() * 4);
  const float scale = 1.0f / std::sqrt(static_cast<float>(D));
  auto step = [&] {
    for (const auto& c : layers) be.paged_attention(q, H, c, b, scale, out);
  };
  step();
  float sink = 0;
  be.to_host(&sink, out, 4);
  std::unique_ptr<Recording> graph;
  if (be.can_record()) {
    be.begin_recording();
    step();
    graph = be.end_recording();
  }
  std::vector<double> rounds;
  for (int r = 0; r < 30; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 10; ++i) {
      if (graph)
        graph->replay();
      else
        step();
    }
    be.to_host(&sink, out, 4);
    rounds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() /
                     (10.0 * static_cast<double>(L)));
  }
  std::sort(rounds.begin(), rounds.end());
  std::printf("S=%lld C=%lld H=%lld KVH=%lld D=%lld L=%lld%s: %.2f us per call (min %.2f)\n",
              static_cast<long long>(S), static_cast<long long>(C), static_cast<long long>(H),
              static_cast<long long>(KVH), static_cast<long long>(D), static_cast<long long>(L),
              graph ? " graph" : "", 1e6 * rounds[rounds.size() / 2], 1e6 * rounds[0]);
  return 0;
}
