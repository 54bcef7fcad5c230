// Paged attention for a flattened batch of prefill chunks and decodes: one block per
// (token, head); K/V rows are read through the sequence's block table in chunks of 128
// positions with an online softmax (running max and sum), so any context length fits.
#include <cfloat>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels.h"
#include "common/assert.h"

namespace sluice::cuda {
namespace {

constexpr int kThreads = 128;  // 4 warps
constexpr int kChunk = 128;    // KV positions per softmax step
constexpr int kMaxHeadDim = 256;

__device__ float block_reduce(float v, bool is_max, float* scratch) {
  for (int o = 16; o > 0; o >>= 1) {
    const float other = __shfl_xor_sync(0xffffffffu, v, o);
    v = is_max ? fmaxf(v, other) : v + other;
  }
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = scratch[0];
  for (int w = 1; w < kThreads / 32; ++w) v = is_max ? fmaxf(v, scratch[w]) : v + scratch[w];
  __syncthreads();
  return v;
}

__global__ __launch_bounds__(kThreads) void paged_attention_kernel(
    const float* q, int64_t num_heads, int64_t group, int64_t head_dim, const float* k_cache,
    const float* v_cache, int64_t block_size, int64_t kv_row, const int32_t* query_start,
    int64_t num_seqs, const int32_t* positions, const int32_t* block_tables,
    int64_t max_blocks, float scale, float* out) {
  __shared__ float q_s[kMaxHeadDim];
  __shared__ float p_s[kChunk];
  __shared__ float scratch[kThreads / 32];
  const int64_t t = blockIdx.x, h = blockIdx.y, kvh = h / group;
  // The token's sequence: the last s with query_start[s] <= t.
  int64_t lo = 0, hi = num_seqs - 1;
  while (lo < hi) {
    const int64_t mid = (lo + hi + 1) / 2;
    if (query_start[mid] <= t) lo = mid; else hi = mid - 1;
  }
  const int32_t* table = block_tables + lo * max_blocks;
  const int64_t ctx = static_cast<int64_t>(positions[t]) + 1;
  const float* qh = q + (t * num_heads + h) * head_dim;
  for (int64_t d = threadIdx.x; d < head_dim; d += kThreads) q_s[d] = qh[d] * scale;
  __syncthreads();

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  float acc[kMaxHeadDim / kThreads] = {};  // dims threadIdx.x + i * kThreads
  float m = -FLT_MAX, l = 0.0f;
  for (int64_t p0 = 0; p0 < ctx; p0 += kChunk) {
    const int cnt = static_cast<int>(min(static_cast<int64_t>(kChunk), ctx - p0));
    // Scores: one warp per position, lanes over dims.
    for (int i = warp; i < cnt; i += kThreads / 32) {
      const int64_t p = p0 + i;
      const float* kr = k_cache + (static_cast<int64_t>(table[p / block_size]) * block_size +
                                   p % block_size) * kv_row + kvh * head_dim;
      float dot = 0.0f;
      for (int64_t d = lane; d < head_dim; d += 32) dot = fmaf(q_s[d], kr[d], dot);
      for (int o = 16; o > 0; o >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, o);
      if (lane == 0) p_s[i] = dot;
    }
    __syncthreads();
    const float chunk_max =
        block_reduce(threadIdx.x < cnt ? p_s[threadIdx.x] : -FLT_MAX, true, scratch);
    const float m_new = fmaxf(m, chunk_max);
    const float correction = expf(m - m_new);
    float e = 0.0f;
    if (threadIdx.x < cnt) {
      e = expf(p_s[threadIdx.x] - m_new);
      p_s[threadIdx.x] = e;
    }
    l = l * correction + block_reduce(e, false, scratch);  // also orders the p_s writes
    m = m_new;
#pragma unroll
    for (int j = 0; j < kMaxHeadDim / kThreads; ++j) {
      const int64_t d = threadIdx.x + j * kThreads;
      if (d >= head_dim) break;
      float a = acc[j] * correction;
      for (int i = 0; i < cnt; ++i) {
        const int64_t p = p0 + i;
        const float* vr = v_cache + (static_cast<int64_t>(table[p / block_size]) * block_size +
                                     p % block_size) * kv_row + kvh * head_dim;
        a = fmaf(p_s[i], vr[d], a);
      }
      acc[j] = a;
    }
    __syncthreads();  // p_s is rewritten by the next chunk
  }
  float* o = out + (t * num_heads + h) * head_dim;
#pragma unroll
  for (int j = 0; j < kMaxHeadDim / kThreads; ++j) {
    const int64_t d = threadIdx.x + j * kThreads;
    if (d < head_dim) o[d] = acc[j] / l;
  }
}

}  // namespace

void paged_attention(const float* q, int64_t num_heads, const KvLayerView& cache,
                     const AttentionBatch& batch, float scale, float* out, cudaStream_t s) {
  if (batch.num_tokens <= 0) return;
  SLUICE_ASSERT(cache.head_dim <= kMaxHeadDim, "CUDA attention supports head_dim <= 256");
  SLUICE_ASSERT(num_heads % cache.num_kv_heads == 0, "num_heads must be a multiple of kv heads");
  const dim3 grid(static_cast<unsigned>(batch.num_tokens), static_cast<unsigned>(num_heads));
  paged_attention_kernel<<<grid, kThreads, 0, s>>>(
      q, num_heads, num_heads / cache.num_kv_heads, cache.head_dim, cache.k, cache.v,
      cache.block_size, cache.num_kv_heads * cache.head_dim, batch.query_start, batch.num_seqs,
      batch.positions, batch.block_tables, batch.max_blocks_per_seq, scale, out);
  SLUICE_CUDA_LAUNCHED();
}

}  // namespace sluice::cuda
