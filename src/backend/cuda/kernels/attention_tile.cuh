#pragma once
// One tile's attention on tensor cores (kernels_attention_tiles.cu's kernel runs it): a block of
// kWarps warps, 64 query rows (T tokens of one sequence x G query heads sharing a KV head), K/V
// (f16) read through the block table in chunks of kKeys positions into shared memory with
// cp.async, two chunks in flight, each row's online softmax in registers:
//
//   per chunk:  S[16 x 64] = Q K^T (log2 units)  ->  mask keys past the row's position
//               m' = max(m, rowmax S);  P = 2^(S - m');  l = l 2^(m - m') + rowsum P
//               O = O 2^(m - m') + P V             (P reuses S's registers as an A fragment)
#include <cuda_fp16.h>

#include <cstdint>

#include "backend/cuda/kernels/kernels.h"
#include "backend/cuda/kernels/mma.cuh"
#include "backend/cuda/kernels/pdl.cuh"

namespace sluice::cuda::tiles {

constexpr int kRows = 64;  // query rows per block
constexpr int kKeys = 64;  // KV positions per chunk
constexpr int kWarps = kRows / 16;
constexpr int kPad = 8;  // halves of padding per shared row: conflict-free fragment loads
constexpr float kLog2e = 1.4426950408889634f;

// Shared memory of a block: two stages of one chunk's K and V rows, [key][dim] f16.
template <int HD>
struct TileSmem {
  __half k[2][kKeys][HD + kPad];
  __half v[2][kKeys][HD + kPad];
};

// Starts copying one chunk (positions of row offsets `rows`, cnt of them valid) into `stage`;
// rows at or past cnt become zeros (masked by the caller).
template <int HD>
__device__ __forceinline__ void issue_chunk(const __half* k_cache, const __half* v_cache,
                                            const int64_t* rows, int cnt, TileSmem<HD>& sm,
                                            int stage) {
  for (int i = threadIdx.x; i < kKeys * HD / 8; i += kWarps * 32) {
    const int key = i / (HD / 8), d = (i % (HD / 8)) * 8;
    const bool ok = key < cnt;
    const int64_t off = ok ? rows[key] + d : 0;
    cp_async16(&sm.k[stage][key][d], k_cache + off, ok ? 16 : 0);
    cp_async16(&sm.v[stage][key][d], v_cache + off, ok ? 16 : 0);
  }
  cp_async_commit();
}

// One tile's attention over chunks [c_begin, c_end). KeySplit (tiles of at most 16 rows:
// decodes, one token x G heads): every warp takes the same 16 rows and its own 16 keys of each
// chunk, and the four warps' softmax states are merged at the end, normalized into `out` or,
// with `part`, unnormalized into a piece's slot; otherwise warp w takes rows 16w..16w+15.
template <int HD, bool KeySplit>
__device__ __forceinline__ void attend_tile(
    const float* q, int num_heads, int group, int G, const __half* k_cache, const __half* v_cache,
    int64_t block_size, int64_t kv_row, const int32_t* positions, const int32_t* block_tables,
    int64_t max_blocks, const AttentionTile& tile, float scale_log2, float* out, TileSmem<HD>& sm,
    int64_t (&row_s)[2][kKeys], int max_pos, int c_begin, int c_end, float* part, int window,
    const float* sinks) {
  constexpr int NT = KeySplit ? 2 : kKeys / 8;  // 8-key score tiles of a warp per chunk
  const int h0 = static_cast<int>(blockIdx.y) * G;
  const int64_t kvh = h0 / group;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, tq = lane % 4;
  const int row0 = KeySplit ? 0 : warp * 16;  // this warp's first row
  const int key0 = KeySplit ? warp * 16 : 0;  // its first key of each chunk
  const int32_t* table = block_tables + static_cast<int64_t>(tile.seq) * max_blocks;

  // This thread's rows: r = row0 + g (+8). Rows past the tile's tokens compute on zeros and
  // are not written.
  int64_t q_off[2];
  int pos[2];
  bool valid[2];
  for (int i = 0; i < 2; ++i) {
    const int r = row0 + g + 8 * i, tt = r / G;
    valid[i] = tt < tile.num_tokens;
    const int64_t t = tile.first_token + min(tt, tile.num_tokens - 1);
    pos[i] = positions[t];
    q_off[i] = (t * num_heads + h0 + r % G) * HD;
  }
  // Row offsets of chunk c's positions (this KV head) into row_s[st]: the block table is the
  // step's input, read before the wait for the kernel before (which writes q and the KV rows).
  auto chunk_rows = [&](int c, int st) {
    const int64_t p = static_cast<int64_t>(c) * kKeys + threadIdx.x;
    if (threadIdx.x < kKeys && p <= max_pos)
      row_s[st][threadIdx.x] =
          (static_cast<int64_t>(table[p / block_size]) * block_size + p % block_size) * kv_row +
          kvh * HD;
  };
  chunk_rows(c_begin, 0);
  pdl_wait();
  // Q as A fragments, pre-scaled by scale * log2(e): [HD / 16 k-steps][4 registers].
  uint32_t qf[HD / 16][4];
#pragma unroll
  for (int ks = 0; ks < HD / 16; ++ks)
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int i = j & 1, col = ks * 16 + 2 * tq + (j & 2 ? 8 : 0);
      float2 v = make_float2(0.0f, 0.0f);
      if (valid[i]) v = *reinterpret_cast<const float2*>(q + q_off[i] + col);
      qf[ks][j] = pack_half2(v.x * scale_log2, v.y * scale_log2);
    }

  float o[HD / 8][4] = {};  // [16 rows, HD] accumulator
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};
  auto chunk_count = [&](int c) { return min(kKeys, max_pos + 1 - c * kKeys); };
  __syncthreads();
  issue_chunk<HD>(k_cache, v_cache, row_s[0], chunk_count(c_begin), sm, 0);
  for (int c = c_begin; c < c_end; ++c) {
    const int st = (c - c_begin) & 1, c0 = c * kKeys + key0;
    if (c + 1 < c_end) {  // the next chunk loads while this one computes
      chunk_rows(c + 1, st ^ 1);
      __syncthreads();
      issue_chunk<HD>(k_cache, v_cache, row_s[st ^ 1], chunk_count(c + 1), sm, st ^ 1);
      cp_async_wait<1>();
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();  // chunk c is in shared memory for every thread
    const auto& k_s = sm.k[st];
    const auto& v_s = sm.v[st];

    // S = Q K^T: [16 rows, NT * 8 keys from key0] as NT tiles of 8 keys.
    float s[NT][4] = {};
#pragma unroll
    for (int ks = 0; ks < HD / 16; ++ks)
#pragma unroll
      for (int nt = 0; nt < NT; ++nt) {
        const __half* kr = &k_s[key0 + nt * 8 + g][ks * 16 + 2 * tq];
        mma_16816(s[nt], qf[ks], *reinterpret_cast<const uint32_t*>(kr),
                  *reinterpret_cast<const uint32_t*>(kr + 8));
      }
    // Causal mask, row maxima (a row's scores sit in the 4 lanes of its quad).
    float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int i = e >> 1, key = c0 + nt * 8 + 2 * tq + (e & 1);
        if (key > pos[i] || (window > 0 && key <= pos[i] - window)) s[nt][e] = -INFINITY;
        mx[i] = fmaxf(mx[i], s[nt][e]);
      }
    float corr[2], ref[2];
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      mx[i] = fmaxf(mx[i], __shfl_xor_sync(0xffffffffu, mx[i], 1));
      mx[i] = fmaxf(mx[i], __shfl_xor_sync(0xffffffffu, mx[i], 2));
      const float m_new = fmaxf(m[i], mx[i]);
      ref[i] = m_new == -INFINITY ? 0.0f : m_new;  // a row with no key yet stays all zero
      corr[i] = exp2f(m[i] - ref[i]);
      m[i] = m_new;
    }
    float sum[2] = {0.0f, 0.0f};
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        s[nt][e] = exp2f(s[nt][e] - ref[e >> 1]);
        sum[e >> 1] += s[nt][e];
      }
#pragma unroll
    for (int i = 0; i < 2; ++i) l[i] = l[i] * corr[i] + sum[i];
#pragma unroll
    for (int nt = 0; nt < HD / 8; ++nt) {
      o[nt][0] *= corr[0], o[nt][1] *= corr[0];
      o[nt][2] *= corr[1], o[nt][3] *= corr[1];
    }
    // O += P V: k-steps of 16 keys; P's A fragment is two adjacent score tiles.
#pragma unroll
    for (int kk = 0; kk < NT / 2; ++kk) {
      const uint32_t a[4] = {pack_half2(s[2 * kk][0], s[2 * kk][1]),
                             pack_half2(s[2 * kk][2], s[2 * kk][3]),
                             pack_half2(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                             pack_half2(s[2 * kk + 1][2], s[2 * kk + 1][3])};
      // Lane l addresses row (key) kk*16 + (l/8 % 2)*8 + l%8 of the dims of tile nt + l/16.
      const int key = key0 + kk * 16 + ((lane >> 3) & 1) * 8 + (lane & 7);
#pragma unroll
      for (int nt = 0; nt < HD / 8; nt += 2) {
        uint32_t b[4];
        ldmatrix_x4_trans(b, &v_s[key][(nt + (lane >> 4)) * 8]);
        mma_16816(o[nt], a, b[0], b[1]);
        mma_16816(o[nt + 1], a, b[2], b[3]);
      }
    }
    __syncthreads();  // stage st is refilled by the next iteration's prefetch
  }
  // Each lane holds part of its rows' sums: add the quad's.
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    l[i] += __shfl_xor_sync(0xffffffffu, l[i], 1);
    l[i] += __shfl_xor_sync(0xffffffffu, l[i], 2);
  }
  if constexpr (KeySplit) {
    // Merge the warps' states in warp order: out = sum_w o_w 2^(m_w - M) / sum_w l_w 2^(m_w - M).
    static_assert(sizeof(float) * kWarps * 16 * (HD + 2) <= sizeof(TileSmem<HD>),
                  "the merge reuses the K/V stages");
    float* o_s = reinterpret_cast<float*>(&sm);  // [warp][16 rows][HD]
    float* ml_s = o_s + kWarps * 16 * HD;        // [warp][16 rows][m, l]
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const int r = g + 8 * i;
      if (tq == 0) ml_s[(warp * 16 + r) * 2] = m[i], ml_s[(warp * 16 + r) * 2 + 1] = l[i];
#pragma unroll
      for (int nt = 0; nt < HD / 8; ++nt)
        *reinterpret_cast<float2*>(&o_s[(warp * 16 + r) * HD + nt * 8 + 2 * tq]) =
            make_float2(o[nt][2 * i], o[nt][2 * i + 1]);
    }
    __syncthreads();
    const int rows = tile.num_tokens * G;
    for (int e = threadIdx.x; e < rows * HD; e += kWarps * 32) {
      const int r = e / HD, d = e % HD;
      float mm = -INFINITY;
      for (int w = 0; w < kWarps; ++w) mm = fmaxf(mm, ml_s[(w * 16 + r) * 2]);
      float num = 0.0f, den = 0.0f;
      for (int w = 0; w < kWarps; ++w) {
        // A row with no key in this piece (before its sliding window) keeps m = -inf, sums 0.
        const float f = mm == -INFINITY ? 0.0f : exp2f(ml_s[(w * 16 + r) * 2] - mm);
        num += o_s[(w * 16 + r) * HD + d] * f;
        den += ml_s[(w * 16 + r) * 2 + 1] * f;
      }
      if (part != nullptr) {
        part[r * HD + d] = num;
        if (d == 0) part[16 * HD + 2 * r] = mm, part[16 * HD + 2 * r + 1] = den;
      } else {
        if (sinks) den += exp2f(sinks[h0 + r % G] * kLog2e - mm);  // the sink's share
        const int64_t t = tile.first_token + r / G;
        out[(t * num_heads + h0 + r % G) * HD + d] = num / den;
      }
    }
  } else {
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const float sink = sinks ? exp2f(sinks[h0 + (row0 + g + 8 * i) % G] * kLog2e - m[i]) : 0.0f;
      l[i] = 1.0f / (l[i] + sink);
    }
#pragma unroll
    for (int nt = 0; nt < HD / 8; ++nt)
#pragma unroll
      for (int i = 0; i < 2; ++i)
        if (valid[i])
          *reinterpret_cast<float2*>(out + q_off[i] + nt * 8 + 2 * tq) =
              make_float2(o[nt][2 * i] * l[i], o[nt][2 * i + 1] * l[i]);
  }
}

}  // namespace sluice::cuda::tiles
