// Paged attention for a flattened batch of prefill chunks and decodes. One block per (token,
// group of query heads sharing a KV head): each K/V row is read once for the whole group. K/V
// rows are read through the sequence's block table in chunks of 128 positions with an online
// softmax per head (running max and sum), so any context length fits: a thread scores one
// position (its K row as 16-byte loads), each warp sums V over a quarter of the positions, so
// many loads are in flight at once (decode is latency-bound). Long contexts with few
// tokens (decode) are split across blocks (split-K; in batch-invariant mode always, in splits of
// a fixed length): each split writes its unnormalized sums, max and denominator, and a second
// kernel combines the splits.
#include <algorithm>
#include <cfloat>
#include <type_traits>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/kernels.h"
#include "backend/cuda/kernels/kv_element.cuh"
#include "backend/cuda/kernels/pdl.cuh"
#include "common/assert.h"

namespace sluice::cuda {
namespace {

constexpr int kThreads = 128;  // 4 warps
constexpr int kWarps = kThreads / 32;
constexpr int kChunk = 128;  // KV positions per softmax step: one per thread for scores
static_assert(kChunk == kThreads, "the score step gives each thread one position");
constexpr int kMaxHeadDim = 256;
constexpr int kMaxGroupDim = 1024;            // heads per block * head_dim
constexpr int kMaxHeads = 8;                  // heads per block
constexpr int kLaneVals = kMaxGroupDim / 32;  // V sums per lane (heads x dims of a lane)
// Split-K: at most this many (token, head, split) partial results (~66 MB of scratch at
// head_dim 128); a batch with more (token, head) pairs than this runs unsplit.
constexpr int64_t kSplitPairs = int64_t{1} << 17;
constexpr int64_t kInvariantSplit = 4 * kChunk;  // positions per split in batch-invariant mode
constexpr int64_t kFewBlocks = 264;              // two blocks per SM of an H100

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

// Offset (in elements) of position p's K/V row of KV head kvh in the paged cache.
__device__ __forceinline__ int64_t kv_row_offset(const int32_t* table, int64_t p,
                                                 int64_t block_size, int64_t kv_row, int64_t kvh,
                                                 int64_t head_dim) {
  return (static_cast<int64_t>(table[p / block_size]) * block_size + p % block_size) * kv_row +
         kvh * head_dim;
}

// Where a split's partial results go: acc [pairs, splits, head_dim], max and sum [pairs, splits]
// (pair = token * num_heads + head). Null: one split, normalized output straight to `out`.
struct SplitOut {
  float* acc = nullptr;
  float* max = nullptr;
  float* sum = nullptr;
  int64_t splits = 1;
  int64_t split_len = 0;    // positions per split (a multiple of kChunk)
  int64_t first_token = 0;  // the launch covers tokens from here; pairs are counted from it
};

// Block (t, g, sp): token t, query heads [g*S, g*S+S) (all of one KV head), positions
// [sp*split_len, (sp+1)*split_len) of its context.
// LD: dims per lane in the V sums, ceil(head_dim / 32) (a template so the sums stay in registers).
template <class T, int LD>
__global__ __launch_bounds__(kThreads) void paged_attention_kernel(
    const float* q, int64_t num_heads, int64_t group, int S, int64_t head_dim, const T* k_cache,
    const T* v_cache, int64_t block_size, int64_t kv_row, const int32_t* query_start,
    int64_t num_seqs, const int32_t* positions, const int32_t* block_tables, int64_t max_blocks,
    float scale, float* out, SplitOut split, const int32_t* token_list, int64_t window,
    const float* sinks) {
  pdl_launch_dependents();  // the output projection follows (or the split combine)
  pdl_wait();
  __shared__ float q_s[kMaxGroupDim];  // [S, head_dim], pre-scaled
  __shared__ float p_s[kMaxHeads][kChunk];
  __shared__ float scratch[kThreads / 32];
  __shared__ float corr_s[kMaxHeads];  // this chunk's rescale of each head's sums
  __shared__ int64_t row_s[kChunk];    // chunk position -> offset of its K/V row (this KV head)
  __shared__ float warp_sum_s[kWarps][kMaxGroupDim];  // each warp's V sums, [S, head_dim]
  // Launch index blockIdx.x + first_token is token t (of the subset when there is one).
  const int64_t idx = blockIdx.x + split.first_token, h0 = static_cast<int64_t>(blockIdx.y) * S;
  const int64_t t = token_list ? token_list[idx] : idx;
  const int64_t kvh = h0 / group;
  // The token's sequence: the last s with query_start[s] <= t.
  int64_t lo = 0, hi = num_seqs - 1;
  while (lo < hi) {
    const int64_t mid = (lo + hi + 1) / 2;
    if (query_start[mid] <= t)
      lo = mid;
    else
      hi = mid - 1;
  }
  const int32_t* table = block_tables + lo * max_blocks;
  const int64_t sp = blockIdx.z;
  // A sliding window starts the token's context later; splits before it are empty.
  const int64_t first = window > 0 ? max(int64_t{0}, positions[t] + 1 - window) : 0;
  const int64_t split_begin = split.acc ? sp * split.split_len : 0;
  const int64_t begin = max(split_begin, first);
  const int64_t ctx =
      split.acc ? min(static_cast<int64_t>(positions[t]) + 1, split_begin + split.split_len)
                : static_cast<int64_t>(positions[t]) + 1;
  for (int64_t i = threadIdx.x; i < S * head_dim; i += kThreads)
    q_s[i] = q[(t * num_heads + h0) * head_dim + i] * scale;
  __syncthreads();

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  // V sums: warp w takes positions w, w + kWarps, ... of each chunk; lane owns dims lane + 32j
  // of every head. The warps' sums are added at the end.
  constexpr int kHeadsLD = kLaneVals / LD;  // S <= kHeadsLD (host side)
  float acc[kHeadsLD][LD];
#pragma unroll
  for (int h = 0; h < kHeadsLD; ++h)
#pragma unroll
    for (int j = 0; j < LD; ++j) acc[h][j] = 0.0f;
  float m[kMaxHeads], l[kMaxHeads];
  for (int h = 0; h < kMaxHeads; ++h) m[h] = -FLT_MAX, l[h] = 0.0f;
  const bool vec8 = head_dim % 8 == 0;  // K rows load 8 elements at a time (aligned)
  for (int64_t p0 = begin; p0 < ctx; p0 += kChunk) {
    const int cnt = static_cast<int>(min(static_cast<int64_t>(kChunk), ctx - p0));
    // Block-table lookups (64-bit div/mod) once per position, not once per element read.
    for (int c = threadIdx.x; c < cnt; c += kThreads)
      row_s[c] = kv_row_offset(table, p0 + c, block_size, kv_row, kvh, head_dim);
    __syncthreads();
    // Scores: thread c takes position c (kChunk == kThreads): its whole K row, every head.
    if (threadIdx.x < cnt) {
      const T* kr = k_cache + row_s[threadIdx.x];
      float dot[kMaxHeads] = {};
      int64_t d = 0;
      if (vec8) {
#pragma unroll 4
        for (; d < head_dim; d += 8) {
          float kd[8];
          kv_load8(kr + d, kd);
#pragma unroll
          for (int h = 0; h < kMaxHeads; ++h)
            if (h < S)
#pragma unroll
              for (int e = 0; e < 8; ++e) dot[h] = fmaf(q_s[h * head_dim + d + e], kd[e], dot[h]);
        }
      }
      for (; d < head_dim; ++d) {
        const float kd = kv_load(kr + d);
#pragma unroll
        for (int h = 0; h < kMaxHeads; ++h)
          if (h < S) dot[h] = fmaf(q_s[h * head_dim + d], kd, dot[h]);
      }
#pragma unroll
      for (int h = 0; h < kMaxHeads; ++h)
        if (h < S) p_s[h][threadIdx.x] = dot[h];
    }
    __syncthreads();
#pragma unroll
    for (int h = 0; h < kMaxHeads; ++h) {
      if (h >= S) break;
      const bool mine = threadIdx.x < cnt;
      const float chunk_max = block_reduce(mine ? p_s[h][threadIdx.x] : -FLT_MAX, true, scratch);
      const float m_new = fmaxf(m[h], chunk_max);
      const float correction = expf(m[h] - m_new);
      if (threadIdx.x == 0) corr_s[h] = correction;
      float e = 0.0f;
      if (mine) {
        e = expf(p_s[h][threadIdx.x] - m_new);
        p_s[h][threadIdx.x] = e;
      }
      // The reduction's barriers also order the p_s and corr_s writes before their reads.
      l[h] = l[h] * correction + block_reduce(e, false, scratch);
      m[h] = m_new;
    }
#pragma unroll
    for (int h = 0; h < kHeadsLD; ++h)
      if (h < S)
#pragma unroll
        for (int j = 0; j < LD; ++j) acc[h][j] *= corr_s[h];
#pragma unroll 4
    for (int c = warp; c < cnt; c += kWarps) {
      const T* vr = v_cache + row_s[c];
      float vv[LD];
#pragma unroll
      for (int j = 0; j < LD; ++j) {
        const int64_t d = lane + 32 * j;
        vv[j] = d < head_dim ? kv_load(vr + d) : 0.0f;
      }
#pragma unroll
      for (int h = 0; h < kHeadsLD; ++h)
        if (h < S)
#pragma unroll
          for (int j = 0; j < LD; ++j) acc[h][j] = fmaf(p_s[h][c], vv[j], acc[h][j]);
    }
    __syncthreads();  // p_s and row_s are rewritten by the next chunk
  }
  // The warps' V sums, added in warp order: thread owns (head, dim) i = threadIdx.x + j*kThreads.
  const int64_t gd = S * head_dim;
#pragma unroll
  for (int h = 0; h < kHeadsLD; ++h)
#pragma unroll
    for (int j = 0; j < LD; ++j) {
      const int64_t d = lane + 32 * j;
      if (h < S && d < head_dim) warp_sum_s[warp][h * head_dim + d] = acc[h][j];
    }
  __syncthreads();
  float out_v[kMaxGroupDim / kThreads];
#pragma unroll
  for (int j = 0; j < kMaxGroupDim / kThreads; ++j) {
    const int64_t i = threadIdx.x + j * kThreads;
    out_v[j] = 0.0f;
    if (i < gd)
      for (int w = 0; w < kWarps; ++w) out_v[j] += warp_sum_s[w][i];
  }
  if (split.acc) {  // partial results; an empty split (begin >= context) writes max -inf, sum 0
#pragma unroll
    for (int j = 0; j < kMaxGroupDim / kThreads; ++j) {
      const int64_t i = threadIdx.x + j * kThreads;
      if (i >= gd) break;
      const int64_t pair = static_cast<int64_t>(blockIdx.x) * num_heads + h0 + i / head_dim;
      split.acc[(pair * split.splits + sp) * head_dim + i % head_dim] = out_v[j];
    }
    if (threadIdx.x == 0)
#pragma unroll
      for (int h = 0; h < kMaxHeads; ++h) {
        if (h >= S) break;
        const int64_t pair = static_cast<int64_t>(blockIdx.x) * num_heads + h0 + h;
        split.max[pair * split.splits + sp] = m[h];
        split.sum[pair * split.splits + sp] = l[h];
      }
    return;
  }
  if (threadIdx.x == 0)
#pragma unroll
    for (int h = 0; h < kMaxHeads; ++h)
      if (h < S)  // reused: each head's 1 / sum (a sink adds exp(sink - m) to it)
        corr_s[h] = 1.0f / (l[h] + (sinks ? expf(sinks[h0 + h] - m[h]) : 0.0f));
  __syncthreads();
#pragma unroll
  for (int j = 0; j < kMaxGroupDim / kThreads; ++j) {
    const int64_t i = threadIdx.x + j * kThreads;
    if (i >= gd) break;
    out[(t * num_heads + h0) * head_dim + i] = out_v[j] * corr_s[i / head_dim];
  }
}

// Block per (token, head), thread per dim: out = sum_s acc_s e^(m_s - M) / sum_s l_s e^(m_s - M).
__global__ void combine_splits_kernel(SplitOut split, int64_t num_heads, int64_t head_dim,
                                      const int32_t* token_list, const float* sinks, float* out) {
  pdl_launch_dependents();  // the output projection follows
  pdl_wait();
  const int64_t pair = blockIdx.x;
  const int64_t idx = pair / num_heads + split.first_token;
  const int64_t t = token_list ? token_list[idx] : idx;
  const float* mx = split.max + pair * split.splits;
  const float* sm = split.sum + pair * split.splits;
  float M = -FLT_MAX;
  for (int64_t s = 0; s < split.splits; ++s) M = fmaxf(M, mx[s]);
  float L = 0.0f;
  for (int64_t s = 0; s < split.splits; ++s) L += sm[s] * expf(mx[s] - M);
  if (sinks) L += expf(sinks[pair % num_heads] - M);
  for (int64_t d = threadIdx.x; d < head_dim; d += blockDim.x) {
    float a = 0.0f;
    for (int64_t s = 0; s < split.splits; ++s)
      a += split.acc[(pair * split.splits + s) * head_dim + d] * expf(mx[s] - M);
    out[(t * num_heads + pair % num_heads) * head_dim + d] = a / L;
  }
}

// Calls f(std::integral_constant<int, ld>{}) for ld in 1..8 (head_dim up to 256).
template <class F>
void with_lane_dims(int ld, F&& f) {
  switch (ld) {
    case 1:
      return f(std::integral_constant<int, 1>{});
    case 2:
      return f(std::integral_constant<int, 2>{});
    case 3:
      return f(std::integral_constant<int, 3>{});
    case 4:
      return f(std::integral_constant<int, 4>{});
    case 5:
      return f(std::integral_constant<int, 5>{});
    case 6:
      return f(std::integral_constant<int, 6>{});
    case 7:
      return f(std::integral_constant<int, 7>{});
    default:
      return f(std::integral_constant<int, 8>{});
  }
}

}  // namespace

int64_t attention_scratch_floats(int64_t num_tokens, int64_t num_heads, int64_t head_dim) {
  return kSplitPairs * (head_dim + 2);
}

void paged_attention(const float* q, int64_t num_heads, const KvLayerView& cache,
                     const AttentionBatch& batch, float scale, float* out, float* scratch,
                     bool batch_invariant, cudaStream_t s, const TokenSubset* subset) {
  const int64_t num_tokens = subset ? subset->num_tokens : batch.num_tokens;
  const int64_t max_context = subset ? subset->max_context : batch.max_context;
  const int32_t* token_list = subset ? subset->tokens : nullptr;
  if (num_tokens <= 0) return;
  const int64_t hd = cache.head_dim;
  SLUICE_ASSERT(hd <= kMaxHeadDim, "CUDA attention supports head_dim <= 256");
  SLUICE_ASSERT(num_heads % cache.num_kv_heads == 0, "num_heads must be a multiple of kv heads");
  const int64_t group = num_heads / cache.num_kv_heads;
  // Heads per block: the largest divisor of the group that fits the shared buffers.
  int S = 1;
  for (int c = 1; c <= kMaxHeads && c <= group; ++c)
    if (group % c == 0 && c * hd <= kMaxGroupDim && c * ((hd + 31) / 32) <= kLaneVals) S = c;
  const int64_t kv_row = cache.num_kv_heads * hd;
  auto launch = [&](const SplitOut& split, int64_t tokens) {
    const dim3 grid(static_cast<unsigned>(tokens), static_cast<unsigned>(num_heads / S),
                    static_cast<unsigned>(split.splits));
    with_kv_type(cache.dtype, [&](auto tag) {
      using T = decltype(tag);
      with_lane_dims(static_cast<int>((hd + 31) / 32), [&](auto ld) {
        launch_pdl(paged_attention_kernel<T, decltype(ld)::value>, grid, dim3(kThreads), s, q,
                   num_heads, group, S, hd, static_cast<const T*>(cache.k),
                   static_cast<const T*>(cache.v), cache.block_size, kv_row, batch.query_start,
                   batch.num_seqs, batch.positions, batch.block_tables, batch.max_blocks_per_seq,
                   scale, out, split, token_list, cache.window, cache.sinks);
      });
    });
    if (split.acc)
      launch_pdl(combine_splits_kernel, dim3(static_cast<unsigned>(tokens * num_heads)), dim3(128),
                 s, split, num_heads, hd, token_list, cache.sinks, out);
  };
  auto place = [&](SplitOut& split, int64_t pairs) {
    split.acc = scratch;
    split.max = scratch + pairs * split.splits * hd;
    split.sum = split.max + pairs * split.splits;
  };
  SplitOut split;
  if (batch_invariant) {
    // Fixed splits of kInvariantSplit positions, always combined, in launches of as many tokens
    // as the scratch holds: a token's reduction order depends on its own context only.
    split.split_len = kInvariantSplit;
    split.splits = std::max<int64_t>(1, (max_context + kInvariantSplit - 1) / kInvariantSplit);
    SLUICE_ASSERT(num_heads * split.splits <= kSplitPairs, "context too long for the scratch");
    const int64_t per_launch = kSplitPairs / (num_heads * split.splits);
    for (int64_t t0 = 0; t0 < num_tokens; t0 += per_launch) {
      const int64_t tokens = std::min(per_launch, num_tokens - t0);
      split.first_token = t0;
      place(split, tokens * num_heads);
      launch(split, tokens);
    }
    return;
  }
  // Split the context when it spans several chunks and the scratch holds the partials.
  const int64_t pairs = num_tokens * num_heads;
  const int64_t chunks = (max_context + kChunk - 1) / kChunk;
  const int64_t want = std::min<int64_t>(chunks, kSplitPairs / pairs);
  if (want > 1) {
    split.split_len = (chunks + want - 1) / want * kChunk;
    split.splits = (max_context + split.split_len - 1) / split.split_len;
    place(split, pairs);
  }
  // Too few blocks to fill the GPU (small decode batches): one head per block instead. A head's
  // arithmetic is the same either way; its K/V rows are then read once per head.
  if (num_tokens * (num_heads / S) * split.splits < kFewBlocks) S = 1;
  launch(split, num_tokens);
}

}  // namespace sluice::cuda
