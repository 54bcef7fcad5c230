// Attention on tensor cores for prefill chunks and many decodes (FlashAttention-2 style;
// mma.sync m16n8k16, f16 operands, f32 accumulation): the tiles of attention_tile.cuh, their
// launch plans, and the merge of a context split into pieces across blocks (flash-decoding).
#include <cooperative_groups.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <type_traits>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/attention_tile.cuh"
#include "backend/cuda/kernels/kernels.h"
#include "backend/cuda/kernels/mma.cuh"
#include "backend/cuda/kernels/pdl.cuh"
#include "common/assert.h"

namespace sluice::cuda {
namespace {

using namespace tiles;  // NOLINT: the tile's constants and attend_tile

constexpr int kMinTileTokens = 8;  // sequences with fewer tokens in a batch go per token...
constexpr int64_t kFillBlocks =
    66;  // ...unless they make this many tiles (measured: 66 beat 264 at c=16/32)
// Resident tiled blocks per SM: head_dim <= 128 two (at most 176 registers, 70 KB of stages); 256
// one (255 registers, 135 KB of stages).
constexpr int kBlocksPerSm = 2;
constexpr int kMaxTileHeadDim = 256;
constexpr int64_t kMaxPieces256 = 32;     // decode pieces per context at head_dim 256
constexpr int64_t kMaxPieces = 256;       // any head_dim: the merge's (m, l) fit the stage buffers
constexpr int64_t kMaxClusterPieces = 8;  // a portable thread-block cluster
constexpr int kSlotFloats = 16 * (kMaxTileHeadDim + 2);  // a piece's sums: o [16][HD], (m, l) [16]

// Where a tile's result goes. pieces == 1: normalized into `out`. Otherwise block z holds piece
// z of the context (whole chunks): it writes its unnormalized sums into its slot of `partials`
// ([tile][head group][piece] slots), and the tile's last block merges the slots in piece order.
// cluster: the pieces of a (tile, head group) form one thread-block cluster (1, 1, pieces); each
// keeps its sums in its own shared memory and they merge there (no partials, no tickets).
struct Pieces {
  float* partials = nullptr;
  int32_t* tickets = nullptr;  // [tile][head group]: blocks done; the merging block resets it
  int pieces = 1;
  bool cluster = false;
};

// The merge's (m, l) of every piece fit the stage buffers it reuses.
template <int HD>
constexpr bool kMergeFitsStages = sizeof(TileSmem<HD>) >=
                                  (2 * kMaxPieces * 16 + 16) * sizeof(float);

// out for the R rows of a tile's head group (heads h0 ..) from its `used` pieces' sums, in piece
// order: out = sum_z o_z 2^(m_z - M) / sum_z l_z 2^(m_z - M) (+ the sink's share below). slot(p):
// piece p's sums ([16][HD], then (m, l) [16]); load(a) reads one of them. This block writes the
// elements [e0, e1) of [16][HD]; each element's arithmetic is the same whichever block does it.
// The pieces' (m, l) go to shared memory first (`smem`: the stages, free now), then each thread
// sums its elements over the pieces with several pieces' loads in flight at once.
template <int HD, class Slot, class Load>
__device__ __forceinline__ void merge_pieces(Slot slot, Load load, int used, int R, int G, int h0,
                                             int64_t first_token, int num_heads, const float* sinks,
                                             float* out, unsigned char* smem, int e0, int e1) {
  float* wm = reinterpret_cast<float*>(smem);  // [used][16]: m_z, then 2^(m_z - M)
  float* wl = wm + used * 16;                  // [used][16]: l_z
  float* den_s = wl + used * 16;               // [16]
  for (int i = threadIdx.x; i < used * R; i += kWarps * 32) {
    const int p = i / R, r = i % R;
    wm[p * 16 + r] = load(slot(p) + 16 * HD + 2 * r);
    wl[p * 16 + r] = load(slot(p) + 16 * HD + 2 * r + 1);
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
    if (e0 + static_cast<int>(threadIdx.x) + j0 * kWarps * 32 >= e1) break;
    float num[kPass] = {};
#pragma unroll 4  // several pieces' loads in flight; the sums keep piece order
    for (int p = 0; p < used; ++p) {
      const float* o = slot(p);
#pragma unroll
      for (int j = 0; j < kPass; ++j) {
        const int e = e0 + static_cast<int>(threadIdx.x) + (j0 + j) * kWarps * 32, r = e / HD;
        if (e < e1 && r < R) num[j] += load(o + e) * wm[p * 16 + r];
      }
    }
#pragma unroll
    for (int j = 0; j < kPass; ++j) {
      const int e = e0 + static_cast<int>(threadIdx.x) + (j0 + j) * kWarps * 32, r = e / HD;
      if (e >= e1 || r >= R) continue;
      const int64_t t = first_token + r / G;
      out[(t * num_heads + h0 + r % G) * HD + e % HD] = num[j] / den_s[r];
    }
  }
}

// Where a cluster's block keeps its piece's sums: past the key-split merge's [kWarps][16][HD]
// sums and (m, l), in the stages.
template <int HD>
constexpr int kClusterSlot = kWarps * 16 * (HD + 2);
template <int HD>
constexpr bool kClusterSlotFits = sizeof(float) * (kClusterSlot<HD> + 16 * (HD + 2)) <=
                                  sizeof(TileSmem<HD>);

// kCluster: a split context's pieces merge in their cluster (pc.cluster), compiled apart so the
// ticket kernel keeps its own registers (176 against 221 at head_dim 128 when they shared one).
template <int HD, bool kCluster>
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
  if (!kCluster && pc.pieces == 1) {  // a cluster always holds 2 or more pieces
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
  // Piece z of the context (pieces past the context's end are empty), then the merge.
  const int per = (num_chunks + pc.pieces - 1) / pc.pieces;
  const int z = static_cast<int>(blockIdx.z), c_begin = z * per;
  const int h0 = static_cast<int>(blockIdx.y) * G, used = (num_chunks + per - 1) / per;
  const int R = tile.num_tokens * G;  // rows of the tile, at most 16
  // This piece's unnormalized sums: in its own shared memory (a cluster) or its global slot.
  static_assert(kClusterSlotFits<HD>, "a cluster block's sums fit its stages");
  const int64_t pair = static_cast<int64_t>(blockIdx.x) * gridDim.y + blockIdx.y;
  const float* slots = pc.partials + pair * pc.pieces * kSlotFloats;
  float* mine = kCluster ? reinterpret_cast<float*>(smem_raw) + kClusterSlot<HD>
                         : pc.partials + (pair * pc.pieces + z) * kSlotFloats;
  if (c_begin >= num_chunks) pdl_wait();  // an empty piece still takes part in the merge
  if (c_begin < num_chunks)
    attend_tile<HD, true>(q, num_heads, group, G, k_cache, v_cache, block_size, kv_row, positions,
                          block_tables, max_blocks, tile, scale_log2, out, sm, row_s, max_pos,
                          c_begin, min(num_chunks, c_begin + per), mine, window, nullptr);
  if constexpr (kCluster) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    // Every piece's sums are in its block's shared memory; rank z (== piece z) merges a share
    // of the elements, reading the others' through distributed shared memory.
    namespace cg = cooperative_groups;
    cg::cluster_group cluster = cg::this_cluster();
    cluster.sync();
    const int share = (R * HD + pc.pieces - 1) / pc.pieces;
    const int rank = static_cast<int>(cluster.block_rank());
    merge_pieces<HD>([&](int p) { return cluster.map_shared_rank(mine, p); },
                     [](const float* a) { return *a; }, used, R, G, h0, tile.first_token, num_heads,
                     sinks, out, smem_raw, rank * share, min(R * HD, (rank + 1) * share));
    cluster.sync();  // no block leaves while another still reads its shared memory
#endif
    return;
  }
  __threadfence();  // this block's sums are visible before its ticket
  __syncthreads();
  if (threadIdx.x == 0) last_s = atomicAdd(&pc.tickets[pair], 1) == pc.pieces - 1;
  __syncthreads();
  if (!last_s) return;
  __threadfence();
  // The last block merges every element (L2 reads: other blocks wrote the slots).
  merge_pieces<HD>([&](int p) { return slots + p * kSlotFloats; },
                   [](const float* a) { return __ldcg(a); }, used, R, G, h0, tile.first_token,
                   num_heads, sinks, out, smem_raw, 0, 16 * HD);
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
      for (auto kernel : {tiled_attention_kernel<HD, false>, tiled_attention_kernel<HD, true>})
        SLUICE_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                               static_cast<int>(smem)));
      return true;
    }();
    (void)sized;
    launch_pdl_cluster(
        pc.cluster ? tiled_attention_kernel<HD, true> : tiled_attention_kernel<HD, false>, grid,
        dim3(kWarps * 32), smem, pc.cluster ? static_cast<unsigned>(pc.pieces) : 1u, s, q,
        static_cast<int>(num_heads), static_cast<int>(group), heads_per_tile(group),
        static_cast<const __half*>(cache.k), static_cast<const __half*>(cache.v), cache.block_size,
        kv_row, batch.positions, batch.block_tables, batch.max_blocks_per_seq, tiles,
        scale * kLog2e, out, key_split, pc, static_cast<int>(cache.window), cache.sinks);
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
// their sums to partials and the last block of a pair merges them (decode_attention's scratch),
// or, cluster and 2 to kMaxClusterPieces of them on sm_90, merge in their cluster.
void launch_pieces(const float* q, int64_t num_heads, const KvLayerView& cache,
                   const AttentionBatch& batch, const AttentionTile* tiles, int64_t num_tiles,
                   int64_t pieces, float scale, float* out, float* partials, int32_t* tickets,
                   bool key_split, bool cluster, cudaStream_t s) {
  const int64_t heads = num_heads / heads_per_tile(num_heads / cache.num_kv_heads);
  SLUICE_ASSERT(
      pieces == 1 || (num_tiles * heads <= decode_tickets() &&
                      num_tiles * heads * pieces * kSlotFloats <= decode_partials_floats()),
      "attention pieces within their scratch bounds");
  const dim3 grid(static_cast<unsigned>(num_tiles), static_cast<unsigned>(heads),
                  static_cast<unsigned>(pieces));
  const bool in_cluster =
      cluster && pieces > 1 && pieces <= kMaxClusterPieces && device_has_clusters();
  launch_tiles(q, num_heads, cache, batch, tiles, grid, scale, out,
               Pieces{partials, tickets, static_cast<int>(pieces), in_cluster}, key_split, s);
}

}  // namespace

void split_tiled_attention(const float* q, int64_t num_heads, const KvLayerView& cache,
                           const AttentionBatch& batch, const AttentionTile* tiles,
                           int64_t num_tiles, int64_t pieces, float scale, float* out,
                           float* partials, int32_t* tickets, bool cluster, cudaStream_t s) {
  if (num_tiles <= 0) return;
  launch_pieces(q, num_heads, cache, batch, tiles, num_tiles, pieces, scale, out, partials, tickets,
                true, cluster, s);
}

int64_t decode_partials_floats() {
  return target_blocks() * kSlotFloats;
}
int64_t decode_tickets() {
  return target_blocks();
}

void decode_attention(const float* q, int64_t num_heads, const KvLayerView& cache,
                      const AttentionBatch& batch, float scale, float* out, float* partials,
                      int32_t* tickets, bool key_split, int64_t max_pieces, bool cluster,
                      cudaStream_t s) {
  if (batch.num_seqs <= 0) return;
  SLUICE_ASSERT(batch.num_tokens == batch.num_seqs,
                "decode_attention takes one token per sequence");
  const int64_t group = num_heads / cache.num_kv_heads;
  const int64_t heads = num_heads / heads_per_tile(group);
  const int64_t pieces = decode_pieces(batch.num_seqs * heads, batch.max_context, cache.head_dim,
                                       key_split, max_pieces);
  launch_pieces(q, num_heads, cache, batch, nullptr, batch.num_seqs, pieces, scale, out, partials,
                tickets, key_split, cluster, s);
}

}  // namespace sluice::cuda
