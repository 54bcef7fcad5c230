// Attention on tensor cores for prefill chunks and many decodes (FlashAttention-2 style;
// mma.sync m16n8k16, f16 operands, f32 accumulation). A block computes one tile of 64 query rows: T
// tokens of one sequence x G query heads that share a KV head (row r = token r / G, head r % G), 4
// warps of 16 rows. K/V (f16) are read through the block table in chunks of 64 positions, copied
// into shared memory once for the whole tile with cp.async, two chunks in flight (the next loads
// while this one computes), and every row keeps its online softmax in registers:
//
//   per chunk:  S[16 x 64] = Q K^T (log2 units)  ->  mask keys past the row's position
//               m' = max(m, rowmax S);  P = 2^(S - m');  l = l 2^(m - m') + rowsum P
//               O = O 2^(m - m') + P V             (P reuses S's registers as an A fragment)
#include <cuda_fp16.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <type_traits>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/kernels.h"
#include "backend/cuda/kernels/mma.cuh"
#include "backend/cuda/kernels/pdl.cuh"
#include "common/assert.h"

namespace sluice::cuda {
namespace {

constexpr int kRows = 64;  // query rows per block
constexpr int kKeys = 64;  // KV positions per chunk
constexpr int kWarps = kRows / 16;
constexpr int kPad = 8;            // halves of padding per shared row: conflict-free fragment loads
constexpr int kMinTileTokens = 8;  // sequences with fewer tokens in a batch go per token...
constexpr int64_t kFillBlocks =
    66;  // ...unless they make this many tiles (measured: 66 beat 264 at c=16/32)
constexpr float kLog2e = 1.4426950408889634f;
// Resident tiled blocks per SM: head_dim <= 128 two (173 registers, 70 KB of stages); 256 one
// (255 registers, 135 KB of stages).
constexpr int kBlocksPerSm = 2;
constexpr int kMaxTileHeadDim = 256;
constexpr int64_t kMaxPieces256 = 32;  // decode pieces per context at head_dim 256
constexpr int64_t kMaxPieces = 256;    // any head_dim: the merge's (m, l) fit the stage buffers
constexpr int kSlotFloats = 16 * (kMaxTileHeadDim + 2);  // a piece's sums: o [16][HD], (m, l) [16]

// Where a tile's result goes. pieces == 1: normalized into `out`. Otherwise block z holds piece
// z of the context (whole chunks): it writes its unnormalized sums into its slot of `partials`
// ([tile][head group][piece] slots), and the tile's last block merges the slots in piece order.
struct Pieces {
  float* partials = nullptr;
  int32_t* tickets = nullptr;  // [tile][head group]: blocks done; the merging block resets it
  int pieces = 1;
};

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

// The merge's (m, l) of every piece fit the stage buffers it reuses.
template <int HD>
constexpr bool kMergeFitsStages = sizeof(TileSmem<HD>) >=
                                  (2 * kMaxPieces * 16 + 16) * sizeof(float);

template <int HD>
__global__ __launch_bounds__(kWarps * 32) void tiled_attention_kernel(
    const float* q, int num_heads, int group, int G, const __half* k_cache, const __half* v_cache,
    int64_t block_size, int64_t kv_row, const int32_t* positions, const int32_t* block_tables,
    int64_t max_blocks, const AttentionTile* tiles, float scale_log2, float* out, bool key_split,
    Pieces pc, int window, const float* sinks) {
  pdl_launch_dependents();  // the output projection follows
  // Positions and block tables are the step's inputs: read before pdl_wait (in attend_tile).
  static_assert(kMergeFitsStages<HD>, "the pieces' (m, l) reuse the stage buffers");
  extern __shared__ __align__(16) unsigned char smem_raw[];
  TileSmem<HD>& sm = *reinterpret_cast<TileSmem<HD>*>(smem_raw);
  __shared__ int64_t row_s[2][kKeys];  // per stage: chunk position -> offset of its K/V row
  __shared__ int max_pos_s;
  __shared__ bool last_s;
  // No tile list: a decode-only batch, tile i = token i of sequence i.
  const int32_t b = static_cast<int32_t>(blockIdx.x);
  const AttentionTile tile = tiles ? tiles[blockIdx.x] : AttentionTile{b, b, 1, 0};
  if (threadIdx.x == 0) max_pos_s = 0;
  __syncthreads();
  for (int i = threadIdx.x; i < tile.num_tokens; i += kWarps * 32)
    atomicMax(&max_pos_s, positions[tile.first_token + i]);
  __syncthreads();
  const int max_pos = max_pos_s;
  const int num_chunks = max_pos / kKeys + 1;
  if (pc.pieces == 1) {
    if (key_split && tile.num_tokens * G <= 16)
      attend_tile<HD, true>(q, num_heads, group, G, k_cache, v_cache, block_size, kv_row, positions,
                            block_tables, max_blocks, tile, scale_log2, out, sm, row_s, max_pos, 0,
                            num_chunks, nullptr, window, sinks);
    else
      attend_tile<HD, false>(q, num_heads, group, G, k_cache, v_cache, block_size, kv_row,
                             positions, block_tables, max_blocks, tile, scale_log2, out, sm, row_s,
                             max_pos, 0, num_chunks, nullptr, window, sinks);
    return;
  }
  // Piece z of the context (pieces past the context's end are empty), then the ticket.
  const int per = (num_chunks + pc.pieces - 1) / pc.pieces;
  const int z = static_cast<int>(blockIdx.z), c_begin = z * per;
  const int64_t pair = static_cast<int64_t>(blockIdx.x) * gridDim.y + blockIdx.y;
  const float* slots = pc.partials + pair * pc.pieces * kSlotFloats;
  if (c_begin >= num_chunks) pdl_wait();  // an empty piece: the ticket still follows
  if (c_begin < num_chunks)
    attend_tile<HD, true>(q, num_heads, group, G, k_cache, v_cache, block_size, kv_row, positions,
                          block_tables, max_blocks, tile, scale_log2, out, sm, row_s, max_pos,
                          c_begin, min(num_chunks, c_begin + per),
                          pc.partials + (pair * pc.pieces + z) * kSlotFloats, window, nullptr);
  __threadfence();  // this block's sums are visible before its ticket
  __syncthreads();
  if (threadIdx.x == 0) last_s = atomicAdd(&pc.tickets[pair], 1) == pc.pieces - 1;
  __syncthreads();
  if (!last_s) return;
  __threadfence();
  // The last block: out = sum_z o_z 2^(m_z - M) / sum_z l_z 2^(m_z - M), in piece order (L2
  // reads: other blocks wrote the slots). The pieces' (m, l) go to shared memory first (the
  // stages are free now), then each thread sums its elements over the pieces with all of a
  // piece's loads in flight at once (one L2 round trip per piece, not three per element).
  const int h0 = static_cast<int>(blockIdx.y) * G, used = (num_chunks + per - 1) / per;
  const int R = tile.num_tokens * G;               // rows of the tile, at most 16
  float* wm = reinterpret_cast<float*>(smem_raw);  // [used][16]: m_z, then 2^(m_z - M)
  float* wl = wm + used * 16;                      // [used][16]: l_z
  float* den_s = wl + used * 16;                   // [16]
  for (int i = threadIdx.x; i < used * R; i += kWarps * 32) {
    const int p = i / R, r = i % R;
    wm[p * 16 + r] = __ldcg(slots + p * kSlotFloats + 16 * HD + 2 * r);
    wl[p * 16 + r] = __ldcg(slots + p * kSlotFloats + 16 * HD + 2 * r + 1);
  }
  __syncthreads();
  if (static_cast<int>(threadIdx.x) < R) {
    const int r = static_cast<int>(threadIdx.x);
    float mm = -INFINITY;
    for (int p = 0; p < used; ++p) mm = fmaxf(mm, wm[p * 16 + r]);
    float den = 0.0f;
    for (int p = 0; p < used; ++p) {
      const float f = mm == -INFINITY ? 0.0f : exp2f(wm[p * 16 + r] - mm);
      den += wl[p * 16 + r] * f;
      wm[p * 16 + r] = f;
    }
    if (sinks) den += exp2f(sinks[h0 + r % G] * kLog2e - mm);  // the sink's share
    den_s[r] = den;
  }
  __syncthreads();
  // A thread's elements, in passes of at most 16 sums in registers (head_dim 256: two passes).
  constexpr int kPer = 16 * HD / (kWarps * 32), kPass = kPer < 16 ? kPer : 16;
  for (int j0 = 0; j0 < kPer; j0 += kPass) {
    float num[kPass] = {};
#pragma unroll 4  // several pieces' loads in flight; the sums keep piece order
    for (int p = 0; p < used; ++p) {
      const float* o = slots + p * kSlotFloats;
#pragma unroll
      for (int j = 0; j < kPass; ++j) {
        const int e = static_cast<int>(threadIdx.x) + (j0 + j) * kWarps * 32, r = e / HD;
        if (r < R) num[j] += __ldcg(o + e) * wm[p * 16 + r];
      }
    }
#pragma unroll
    for (int j = 0; j < kPass; ++j) {
      const int e = static_cast<int>(threadIdx.x) + (j0 + j) * kWarps * 32, r = e / HD;
      if (r >= R) continue;
      const int64_t t = tile.first_token + r / G;
      out[(t * num_heads + h0 + r % G) * HD + e % HD] = num[j] / den_s[r];
    }
  }
  if (threadIdx.x == 0) pc.tickets[pair] = 0;  // ready for the next launch (and replay)
}

// Heads per tile: the largest divisor of the GQA group that divides the tile's 64 rows (at
// most 16, so a tile holds at least 4 tokens).
int heads_per_tile(int64_t group) {
  int G = 1;
  for (int c = 1; c <= 16 && c <= group; c *= 2)
    if (group % c == 0) G = c;
  return G;
}

}  // namespace

bool tiled_attention_supported(int64_t head_dim) {
  return head_dim == 64 || head_dim == 128 || head_dim == 256;
}

namespace {

int64_t resident_blocks(int64_t hd);
int64_t decode_pieces(int64_t pairs, int64_t max_context, int64_t hd, bool key_split,
                      int64_t max_pieces);

// Tiles of at most `rows` query rows (rows / G tokens of one sequence).
AttentionSplit plan_tiles(const int32_t* query_start, const int32_t* positions, int64_t num_seqs,
                          int64_t num_heads, int64_t group, int rows) {
  AttentionSplit plan;
  const int G = heads_per_tile(group), T = std::max(1, rows / G);
  // Decodes beside prefill chunks (decode-only batches take decode_attention): many get a tile
  // each (K/V read once per KV head); few go to the per-token kernel, which splits long contexts.
  int64_t short_seqs = 0;
  for (int64_t s = 0; s < num_seqs; ++s)
    short_seqs += query_start[s + 1] - query_start[s] < kMinTileTokens;
  const int32_t min_tokens = short_seqs * (num_heads / G) >= kFillBlocks ? 1 : kMinTileTokens;
  for (int64_t s = 0; s < num_seqs; ++s) {
    const int32_t b = query_start[s], e = query_start[s + 1];
    if (e - b >= min_tokens) {
      for (int32_t t = b; t < e; t += T)
        plan.tiles.push_back({static_cast<int32_t>(s), t, std::min<int32_t>(T, e - t), 0});
      continue;
    }
    for (int32_t t = b; t < e; ++t) {
      plan.other_tokens.push_back(t);
      plan.other_max_context = std::max<int64_t>(plan.other_max_context, positions[t] + 1);
    }
  }
  // Longest contexts first: the causal tiles' costs differ, the big ones should not come last.
  auto context = [&](const AttentionTile& t) {
    return positions[t.first_token + t.num_tokens - 1];
  };
  std::stable_sort(
      plan.tiles.begin(), plan.tiles.end(),
      [&](const AttentionTile& a, const AttentionTile& b) { return context(a) > context(b); });
  return plan;
}

}  // namespace

AttentionSplit plan_attention(const int32_t* query_start, const int32_t* positions,
                              int64_t num_seqs, int64_t num_heads, int64_t group, int64_t head_dim,
                              bool key_split, int64_t max_pieces) {
  AttentionSplit plan = plan_tiles(query_start, positions, num_seqs, num_heads, group, kRows);
  const int64_t heads = num_heads / heads_per_tile(group);
  // Few tiles (a short chunk, as a prefix hit leaves: 13 tokens of Gemma 3 4B are 4 blocks) leave
  // most multiprocessors idle: tiles of 16 rows instead, each context split across blocks as a
  // decode's is.
  const auto tiles = static_cast<int64_t>(plan.tiles.size());
  if (!key_split || tiles == 0 || tiles * heads * 2 > resident_blocks(head_dim)) return plan;
  AttentionSplit small = plan_tiles(query_start, positions, num_seqs, num_heads, group, 16);
  int64_t context = 0;
  for (const AttentionTile& t : small.tiles)
    context = std::max<int64_t>(context, positions[t.first_token + t.num_tokens - 1] + 1);
  small.pieces = decode_pieces(static_cast<int64_t>(small.tiles.size()) * heads, context, head_dim,
                               key_split, max_pieces);
  return small.pieces > 1 ? small : plan;
}

namespace {

// One launch of the tiled kernel: grid (tiles, head groups, pieces); tiles null for decodes.
void launch_tiles(const float* q, int64_t num_heads, const KvLayerView& cache,
                  const AttentionBatch& batch, const AttentionTile* tiles, dim3 grid, float scale,
                  float* out, Pieces pc, bool key_split, cudaStream_t s) {
  const int64_t hd = cache.head_dim;
  SLUICE_ASSERT(tiled_attention_supported(hd), "tiled attention needs head_dim 64, 128 or 256");
  SLUICE_ASSERT(cache.dtype == KvDtype::F16, "tiled attention reads an f16 KV cache");
  const int64_t group = num_heads / cache.num_kv_heads;
  const int64_t kv_row = cache.num_kv_heads * hd;
  auto launch = [&](auto hd_tag) {
    constexpr int HD = decltype(hd_tag)::value;
    constexpr size_t smem = sizeof(TileSmem<HD>);
    static const bool sized = [] {  // once per HD: more than the default 48 KB of shared memory
      SLUICE_CUDA_CHECK(cudaFuncSetAttribute(tiled_attention_kernel<HD>,
                                             cudaFuncAttributeMaxDynamicSharedMemorySize,
                                             static_cast<int>(smem)));
      return true;
    }();
    (void)sized;
    launch_pdl_smem(tiled_attention_kernel<HD>, grid, dim3(kWarps * 32), smem, s, q,
                    static_cast<int>(num_heads), static_cast<int>(group), heads_per_tile(group),
                    static_cast<const __half*>(cache.k), static_cast<const __half*>(cache.v),
                    cache.block_size, kv_row, batch.positions, batch.block_tables,
                    batch.max_blocks_per_seq, tiles, scale * kLog2e, out, key_split, pc,
                    static_cast<int>(cache.window), cache.sinks);
  };
  if (hd == 64)
    launch(std::integral_constant<int, 64>{});
  else if (hd == 128)
    launch(std::integral_constant<int, 128>{});
  else
    launch(std::integral_constant<int, 256>{});
}

// The most tiled blocks resident at once (any head_dim): the decode scratch's bound.
int64_t target_blocks() {
  return kBlocksPerSm * sm_count();
}

// Those of head_dim hd (256: one block per SM fits its shared memory).
int64_t resident_blocks(int64_t hd) {
  return hd > 128 ? sm_count() : target_blocks();
}

// Pieces per context: as many blocks as fit at once (resident_blocks; one block
// more would start a second wave), each piece at least a chunk of the longest context (shorter
// ones get shorter pieces, or empty ones). So pairs * pieces <= target: the scratch's bound.
int64_t decode_pieces(int64_t pairs, int64_t max_context, int64_t hd, bool key_split,
                      int64_t max_pieces) {
  if (!key_split) return 1;  // the merge is the key-split tiles' own
  const int64_t chunks = std::max<int64_t>(1, (max_context + kKeys - 1) / kKeys);
  // head_dim 256: the last block's merge reads every piece's 16 x 258 floats; past ~32 pieces
  // (Gemma 3 1B: one pair, 82 pieces at 5k tokens) it cost more than the pieces saved.
  int64_t most = hd > 128 ? kMaxPieces256 : std::min(kMaxPieces, resident_blocks(hd));
  // A piece's block waits on its chunks' loads one after another; the merging block reads every
  // piece's sums: ~sqrt(3 x chunks) pieces balance the two, up to 8 chunks one each (H100, one
  // sequence of the Qwen3 MoE shape: 600 positions 10 pieces 12.2 us, 5 11.3 us; 2,000: 32
  // pieces 18.9 us, 8 14.3 us; bench/gpu/device_attention_decode.sh).
  const auto balanced = std::max(std::min<int64_t>(chunks, 8),
                                 static_cast<int64_t>(std::ceil(std::sqrt(3.0 * chunks))));
  most = std::min(most, max_pieces > 0 ? max_pieces : balanced);
  return std::clamp<int64_t>(std::min(most, resident_blocks(hd) / pairs), 1, chunks);
}

}  // namespace

void tiled_attention(const float* q, int64_t num_heads, const KvLayerView& cache,
                     const AttentionBatch& batch, const AttentionTile* tiles, int64_t num_tiles,
                     float scale, float* out, bool key_split, cudaStream_t s) {
  if (num_tiles <= 0) return;
  const int G = heads_per_tile(num_heads / cache.num_kv_heads);
  const dim3 grid(static_cast<unsigned>(num_tiles), static_cast<unsigned>(num_heads / G));
  launch_tiles(q, num_heads, cache, batch, tiles, grid, scale, out, Pieces{}, key_split, s);
}

namespace {

// Tiles (null: token i of sequence i) x head groups x pieces of their contexts; pieces > 1 write
// their sums to partials and the last block of a pair merges them (decode_attention's scratch).
void launch_pieces(const float* q, int64_t num_heads, const KvLayerView& cache,
                   const AttentionBatch& batch, const AttentionTile* tiles, int64_t num_tiles,
                   int64_t pieces, float scale, float* out, float* partials, int32_t* tickets,
                   bool key_split, cudaStream_t s) {
  const int64_t heads = num_heads / heads_per_tile(num_heads / cache.num_kv_heads);
  SLUICE_ASSERT(
      pieces == 1 || (num_tiles * heads <= decode_tickets() &&
                      num_tiles * heads * pieces * kSlotFloats <= decode_partials_floats()),
      "attention pieces within their scratch bounds");
  const dim3 grid(static_cast<unsigned>(num_tiles), static_cast<unsigned>(heads),
                  static_cast<unsigned>(pieces));
  launch_tiles(q, num_heads, cache, batch, tiles, grid, scale, out,
               Pieces{partials, tickets, static_cast<int>(pieces)}, key_split, s);
}

}  // namespace

void split_tiled_attention(const float* q, int64_t num_heads, const KvLayerView& cache,
                           const AttentionBatch& batch, const AttentionTile* tiles,
                           int64_t num_tiles, int64_t pieces, float scale, float* out,
                           float* partials, int32_t* tickets, cudaStream_t s) {
  if (num_tiles <= 0) return;
  launch_pieces(q, num_heads, cache, batch, tiles, num_tiles, pieces, scale, out, partials, tickets,
                true, s);
}

int64_t decode_partials_floats() {
  return target_blocks() * kSlotFloats;
}
int64_t decode_tickets() {
  return target_blocks();
}

void decode_attention(const float* q, int64_t num_heads, const KvLayerView& cache,
                      const AttentionBatch& batch, float scale, float* out, float* partials,
                      int32_t* tickets, bool key_split, int64_t max_pieces, cudaStream_t s) {
  if (batch.num_seqs <= 0) return;
  SLUICE_ASSERT(batch.num_tokens == batch.num_seqs,
                "decode_attention takes one token per sequence");
  const int64_t group = num_heads / cache.num_kv_heads;
  const int64_t heads = num_heads / heads_per_tile(group);
  const int64_t pieces = decode_pieces(batch.num_seqs * heads, batch.max_context, cache.head_dim,
                                       key_split, max_pieces);
  launch_pieces(q, num_heads, cache, batch, nullptr, batch.num_seqs, pieces, scale, out, partials,
                tickets, key_split, s);
}

}  // namespace sluice::cuda
