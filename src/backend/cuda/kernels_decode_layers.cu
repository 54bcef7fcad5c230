// Every decoder layer of a one-token decode step in one persistent launch
// (Backend::decode_layers): one block per multiprocessor, all resident, phases split by grid
// barriers (grid_barrier.cuh):
//   q/k/v products | attention (q/k norms, RoPE, cache write) | o product, x += |
//   gate/up products | down product, x +=
// Each block quantizes the activations a phase needs (act16.cuh) for itself, into shared
// memory. A producer warp streams the block's rows of every weight of every layer, in the order
// the consumer warps use them, through a ring of shared-memory slots (bulk copies), so weight
// reads do not stop at a barrier: the next product's rows arrive while attention runs.
#include <cuda_fp16.h>

#include <algorithm>
#include <cfloat>
#include <cstring>

#include "backend/cuda/act16.cuh"
#include "backend/cuda/bulk_copy.cuh"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/grid_barrier.cuh"
#include "backend/cuda/kernels.h"
#include "backend/cuda/rope.cuh"
#include "backend/cuda/row_math.cuh"

namespace sluice::cuda {
namespace {

constexpr int kConsumerWarps = 16;
constexpr int kConsumers = kConsumerWarps * 32;
constexpr int kThreads = kConsumers + 32;  // + the producer warp
constexpr int kSlots = 10;
constexpr int kProducts = 7;  // q, k, v, o, gate, up, down: the order of the weight stream
constexpr int kMaxGroup = 8;  // query heads per KV head
constexpr int kMaxHeadDim = 128;
constexpr int kMinPieceKeys = 32;  // attention splits a context into pieces of at least this
constexpr int kTracePhases = 5;     // q/k/v, attention, o, gate/up, down

struct ProductDesc {
  const uint8_t* codes;
  const uint8_t* headers;
  int32_t rows, units;
};
struct LayerDesc {
  ProductDesc p[kProducts];
  const float *attn_norm, *ffn_norm, *q_norm, *k_norm;
  __half *k_cache, *v_cache;
};

struct Args {
  const LayerDesc* layers;
  int num_layers, hidden, inter, num_heads, num_kv_heads, block_size;
  float eps, scale;
  RopeParams rope;
  float *x, *q, *k, *v, *attn, *gate, *up;
  const int32_t *position, *slot, *block_table;
  float* partials;  // attention pieces: [items][group * head_dim + 2 * group]
  int32_t* tickets;  // [num_kv_heads]
  GridBarrierState* barrier;
  int slot_bytes, region_bytes, max_pieces;
  unsigned long long* trace;  // null, or block 0's clock at each phase's end and barrier exit
  bool stream_only;           // products skipped (a measurement of the weight stream alone)
};

__device__ __forceinline__ void stamp(const Args& a, int i) {
  if (a.trace && blockIdx.x == 0 && threadIdx.x == 0) {
    unsigned long long t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    a.trace[i] = t;
  }
}

__device__ __forceinline__ void consumers_sync() {
  asm volatile("bar.sync 1, %0;" ::"n"(kConsumers) : "memory");
}

// The block's rows [lo, hi) of a product and its chunk height (rows per slot).
struct RowShare {
  int lo, hi, chunk;
};
template <class F>
__device__ __forceinline__ RowShare row_share(const ProductDesc& d, int slot_bytes) {
  const int row_bytes = d.units * (F::kCodeBytes + F::kHeaderBytes);
  return RowShare{static_cast<int>(static_cast<int64_t>(d.rows) * blockIdx.x / gridDim.x),
                  static_cast<int>(static_cast<int64_t>(d.rows) * (blockIdx.x + 1) / gridDim.x),
                  max(1, slot_bytes / row_bytes)};
}

// Shared memory: the ring, its barriers, q heads and a region shared by the quantized
// activations and the attention sums.
struct Smem {
  uint8_t* ring;
  uint64_t* full;
  uint64_t* empty;
  float* red;  // [32] block reductions
  int* flag;
  float* q;    // [kMaxGroup + 1][head_dim]: a group's query heads, then one K head
  uint8_t* region;
};
__device__ Smem smem_layout(uint8_t* base, const Args& a) {
  Smem s;
  s.ring = base;
  uint8_t* p = base + kSlots * a.slot_bytes;
  s.full = reinterpret_cast<uint64_t*>(p);
  s.empty = s.full + kSlots;
  s.red = reinterpret_cast<float*>(s.empty + kSlots);
  s.flag = reinterpret_cast<int*>(s.red + 32);
  s.q = reinterpret_cast<float*>(s.red + 64);
  s.region = reinterpret_cast<uint8_t*>(s.q + (kMaxGroup + 1) * kMaxHeadDim);
  return s;
}

// ---- the producer: one thread streams every chunk of every product, in consumer order ----
template <class F>
__device__ void produce(const Args& a, const Smem& s) {
  uint32_t chunk = 0;
  for (int l = 0; l < a.num_layers; ++l) {
    for (int p = 0; p < kProducts; ++p) {
      const ProductDesc d = a.layers[l].p[p];
      const RowShare sh = row_share<F>(d, a.slot_bytes);
      for (int r = sh.lo; r < sh.hi; r += sh.chunk, ++chunk) {
        const int rows = min(sh.chunk, sh.hi - r), slot = chunk % kSlots;
        const uint32_t use = chunk / kSlots;
        if (use > 0) mbarrier_wait(&s.empty[slot], (use - 1) & 1);
        const uint32_t code_bytes = rows * d.units * F::kCodeBytes;
        const uint32_t header_bytes = rows * d.units * F::kHeaderBytes;
        uint8_t* dst = s.ring + slot * a.slot_bytes;
        mbarrier_arrive_expect(&s.full[slot], code_bytes + header_bytes);
        bulk_copy(dst, d.codes + static_cast<int64_t>(r) * d.units * F::kCodeBytes, code_bytes,
                  &s.full[slot]);
        bulk_copy(dst + code_bytes, d.headers + static_cast<int64_t>(r) * d.units * F::kHeaderBytes,
                  header_bytes, &s.full[slot]);
      }
    }
  }
}

// ---- consumers ----

// Quantized activations in the region: codes [cols] int16, then blocks [cols / 32]. Block b's
// four 16-byte words (8 codes each) are rotated by b: word i at slot (i + b) % 4, so a warp's
// lanes reading word i of consecutive blocks hit every bank once per 4 lanes, not 16 at once.
__device__ __forceinline__ int swizzled(int b, int e) {
  return b * 32 + (((e >> 3) + b) & 3) * 8 + (e & 7);
}
__device__ __forceinline__ Act32 load_swizzled(const int16_t* codes, int b) {
  const uint4* p = reinterpret_cast<const uint4*>(codes + b * 32);
  Act32 a;
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const uint4 v = p[(i + b) & 3];
    a.w[4 * i] = static_cast<int>(v.x), a.w[4 * i + 1] = static_cast<int>(v.y);
    a.w[4 * i + 2] = static_cast<int>(v.z), a.w[4 * i + 3] = static_cast<int>(v.w);
  }
  return a;
}
__device__ __forceinline__ int16_t* act_codes(const Smem& s) {
  return reinterpret_cast<int16_t*>(s.region);
}
__device__ __forceinline__ ActBlock* act_blocks(const Smem& s, int cols) {
  return reinterpret_cast<ActBlock*>(s.region + cols * sizeof(int16_t));
}

__device__ float consumers_sum(float v, const Smem& s) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) s.red[warp] = v;
  consumers_sync();
  float t = 0.0f;
  for (int w = 0; w < kConsumerWarps; ++w) t += s.red[w];
  consumers_sync();  // red is reused
  return t;
}

// The region's activations from value(i), i < cols (a multiple of 32): warp w quantizes blocks
// w, w + 16, ...; kBatch blocks' values are read before any is quantized (the reads are L2
// round trips; one at a time they would serialize).
template <class Value>
__device__ void quantize_into(const Smem& s, int cols, Value&& value) {
  constexpr int kBatch = 16;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  int16_t* codes = act_codes(s);
  ActBlock* blocks = act_blocks(s, cols);
  const int nb = cols / 32;
  for (int b0 = warp; b0 < nb; b0 += kConsumerWarps * kBatch) {
    float v[kBatch];
#pragma unroll
    for (int i = 0; i < kBatch; ++i) {
      const int b = b0 + i * kConsumerWarps;
      v[i] = b < nb ? value(b * 32 + lane) : 0.0f;
    }
#pragma unroll
    for (int i = 0; i < kBatch; ++i) {
      const int b = b0 + i * kConsumerWarps;
      if (b < nb) quantize_act16_block(v[i], codes + swizzled(b, lane), blocks + b);
    }
  }
  consumers_sync();
}

// rms_norm(x) * weight, quantized (x written by other blocks: read through L2).
__device__ void quantize_normed(const Smem& s, const float* x, int cols, const float* weight,
                                float eps) {
  float ss = 0.0f;
  for (int i = threadIdx.x; i < cols; i += kConsumers) {
    const float v = __ldcg(x + i);
    ss += v * v;
  }
  ss = consumers_sum(ss, s);
  const float inv = inv_rms(ss, cols, eps);
  quantize_into(s, cols, [&](int i) { return __ldcg(x + i) * inv * weight[i]; });
}

// One product's rows of this block from the ring: warp w takes the block's rows w, w + 16, ...;
// row r's sum goes to y[r] (add: is added to it). Every warp waits for every chunk before
// releasing it, so no warp runs a whole ring ahead of another. (Spreading each chunk over all
// warps with a barrier per chunk measured slower.) a.stream_only: the weights stream through
// the ring and nothing is computed (SLUICE_CUDA_DECODE_LAYERS_TRACE=stream, a measurement).
template <class F>
__device__ void consume(const Args& a, const Smem& s, const ProductDesc& d, uint32_t& chunk,
                        float* y, bool add) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const RowShare sh = row_share<F>(d, a.slot_bytes);
  const int16_t* codes_q = act_codes(s);
  const ActBlock* blocks = act_blocks(s, d.units * 32);
  int k = 0;  // the block's rows before this chunk
  for (int r = sh.lo; r < sh.hi; r += sh.chunk, ++chunk) {
    const int rows = min(sh.chunk, sh.hi - r), slot = chunk % kSlots;
    mbarrier_wait(&s.full[slot], (chunk / kSlots) & 1);
    const uint8_t* codes = s.ring + slot * a.slot_bytes;
    const uint8_t* headers = codes + rows * d.units * F::kCodeBytes;
    for (int j = (warp - k % kConsumerWarps + kConsumerWarps) % kConsumerWarps;
         j < rows && !a.stream_only; j += kConsumerWarps) {
      float sum = 0.0f;
#pragma unroll 4
      for (int u = lane; u < d.units; u += 32)
        sum += F::dot(F::at(codes, headers, j * d.units + u), load_swizzled(codes_q, u), blocks[u]);
      for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
      if (lane == 0) y[r + j] = add ? __ldcg(y + r + j) + sum : sum;
    }
    __syncwarp();
    if (lane == 0) mbarrier_arrive(&s.empty[slot]);
    k += rows;
  }
}

// Head `head` of src (hd floats) into dst: per-head RMSNorm (when norm), RoPE at pos, times
// mul; one warp, as prepare_qkv_kernel and the attention kernels compute it.
template <int HD>
__device__ void prepare_head(const float* src, float* dst, const float* norm, float eps,
                             const RopeParams& rope, int32_t pos, float mul) {
  constexpr int hd = HD;
  const int lane = threadIdx.x % 32;
  float ss = 0.0f;
#pragma unroll
  for (int d = lane; d < hd; d += 32) {
    dst[d] = __ldcg(src + d);
    ss += dst[d] * dst[d];
  }
  if (norm) {
    for (int o = 16; o > 0; o >>= 1) ss += __shfl_xor_sync(0xffffffffu, ss, o);
    const float inv = inv_rms(ss, hd, eps);
    for (int d = lane; d < hd; d += 32) dst[d] = dst[d] * inv * norm[d];
  }
  __syncwarp();
  const int half = static_cast<int>(rope.rotary_dim / 2);
  for (int i = lane; i < half; i += 32) {
    const int x0i = rope.interleaved ? 2 * i : i, x1i = rope.interleaved ? 2 * i + 1 : i + half;
    float sn, cs;
    rope_sincos(pos, i, half, rope.theta, rope.inv_freq, &sn, &cs);
    const float x0 = dst[x0i], x1 = dst[x1i];
    dst[x0i] = x0 * cs - x1 * sn;
    dst[x1i] = x0 * sn + x1 * cs;
  }
  __syncwarp();
  if (mul != 1.0f)
    for (int d = lane; d < hd; d += 32) dst[d] *= mul;
  __syncwarp();
}

// Attention of the new token for KV head h over positions [begin, end) of its context: warp w
// takes positions begin + w, + 16, ... with an online softmax per query head; lane holds dims
// [lane * D, lane * D + D). Leaves the block's unnormalized sums, max and denominator per
// query head in sums [G][HD], stats [2][G] (shared memory).
template <int HD, int G>
__device__ void attend(const Args& a, const Smem& s, const LayerDesc& L, int h, int begin,
                       int end, float* sums, float* stats) {
  constexpr int D = HD / 32;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int kv_row = a.num_kv_heads * HD;
  float* wsum = reinterpret_cast<float*>(s.region);           // [warps][G][HD]
  float* wstat = wsum + kConsumerWarps * G * HD;              // [warps][2][G]
  float qv[G][D], acc[G][D], m[G], l[G];
#pragma unroll
  for (int g = 0; g < G; ++g) {
    m[g] = -INFINITY, l[g] = 0.0f;
#pragma unroll
    for (int e = 0; e < D; ++e) qv[g][e] = s.q[g * HD + lane * D + e], acc[g][e] = 0.0f;
  }
  constexpr int kKeys = 4;  // positions whose K/V rows are loaded before any is used
  for (int j0 = begin + warp; j0 < end; j0 += kConsumerWarps * kKeys) {
    float kv[kKeys][D], vv[kKeys][D];
#pragma unroll
    for (int t = 0; t < kKeys; ++t) {
      const int j = min(j0 + t * kConsumerWarps, end - 1);
      const int64_t off = (static_cast<int64_t>(a.block_table[j / a.block_size]) * a.block_size +
                           j % a.block_size) * kv_row + h * HD + lane * D;
#pragma unroll
      for (int e = 0; e < D; e += 2) {
        const float2 kf = __half22float2(*reinterpret_cast<const __half2*>(L.k_cache + off + e));
        const float2 vf = __half22float2(*reinterpret_cast<const __half2*>(L.v_cache + off + e));
        kv[t][e] = kf.x, kv[t][e + 1] = kf.y, vv[t][e] = vf.x, vv[t][e + 1] = vf.y;
      }
    }
#pragma unroll
    for (int t = 0; t < kKeys; ++t) {
      if (j0 + t * kConsumerWarps >= end) break;
#pragma unroll
      for (int g = 0; g < G; ++g) {
        float sc = 0.0f;
#pragma unroll
        for (int e = 0; e < D; ++e) sc = fmaf(qv[g][e], kv[t][e], sc);
        for (int o = 16; o > 0; o >>= 1) sc += __shfl_xor_sync(0xffffffffu, sc, o);
        const float mn = fmaxf(m[g], sc), corr = expf(m[g] - mn), p = expf(sc - mn);
        l[g] = l[g] * corr + p;
#pragma unroll
        for (int e = 0; e < D; ++e) acc[g][e] = fmaf(p, vv[t][e], acc[g][e] * corr);
        m[g] = mn;
      }
    }
  }
#pragma unroll
  for (int g = 0; g < G; ++g) {
#pragma unroll
    for (int e = 0; e < D; ++e) wsum[(warp * G + g) * HD + lane * D + e] = acc[g][e];
    if (lane == 0) wstat[(warp * 2) * G + g] = m[g], wstat[(warp * 2 + 1) * G + g] = l[g];
  }
  consumers_sync();
  for (int i = threadIdx.x; i < G * HD; i += kConsumers) {
    const int g = i / HD;
    float mx = -INFINITY;
    for (int w = 0; w < kConsumerWarps; ++w) mx = fmaxf(mx, wstat[(w * 2) * G + g]);
    float sum = 0.0f, den = 0.0f;
    for (int w = 0; w < kConsumerWarps; ++w) {
      const float wm = wstat[(w * 2) * G + g];
      const float f = wm == -INFINITY ? 0.0f : expf(wm - mx);
      sum += wsum[(w * G + g) * HD + i % HD] * f;
      den += wstat[(w * 2 + 1) * G + g] * f;
    }
    sums[i] = sum;
    if (i % HD == 0) stats[g] = mx, stats[G + g] = den;
  }
  consumers_sync();
}

// The attention phase: items (KV head, piece of the context); a piece's block writes its sums
// to the partials, and the last of a head's blocks (ticket) merges them into attn.
template <int HD, int G>
__device__ void attention_phase(const Args& a, const Smem& s, const LayerDesc& L) {
  const int warp = threadIdx.x / 32;
  const int32_t pos = *a.position;
  const int ctx = pos + 1;
  const int pieces = min(a.max_pieces, (ctx + kMinPieceKeys - 1) / kMinPieceKeys);
  constexpr int kItemFloats = G * HD + 2 * G;
  for (int item = blockIdx.x; item < a.num_kv_heads * pieces; item += gridDim.x) {
    const int h = item / pieces, p = item % pieces;
    const int begin = static_cast<int>(static_cast<int64_t>(ctx) * p / pieces);
    const int end = static_cast<int>(static_cast<int64_t>(ctx) * (p + 1) / pieces);
    if (warp < G)
      prepare_head<HD>(a.q + (h * G + warp) * HD, s.q + warp * HD, L.q_norm, a.eps, a.rope, pos,
                       a.scale);
    const int32_t slot = *a.slot;
    if (p == pieces - 1 && warp == G && slot >= 0) {  // the new token's K and V, into the cache
      float* kbuf = s.q + G * HD;
      prepare_head<HD>(a.k + h * HD, kbuf, L.k_norm, a.eps, a.rope, pos, 1.0f);
      const int64_t at = static_cast<int64_t>(slot) * a.num_kv_heads * HD + h * HD;
      for (int d = threadIdx.x % 32; d < HD; d += 32) {
        L.k_cache[at + d] = __float2half_rn(kbuf[d]);
        L.v_cache[at + d] = __float2half_rn(__ldcg(a.v + h * HD + d));
      }
    }
    consumers_sync();
    float* sums = a.partials + static_cast<int64_t>(item) * kItemFloats;
    float* stats = sums + G * HD;
    if (pieces == 1) {  // straight to the output (the sums were written by this block)
      attend<HD, G>(a, s, L, h, begin, end, sums, stats);
      for (int i = threadIdx.x; i < G * HD; i += kConsumers)
        a.attn[h * G * HD + i] = sums[i] / stats[G + i / HD];
      consumers_sync();
      continue;
    }
    attend<HD, G>(a, s, L, h, begin, end, sums, stats);
    __threadfence();
    consumers_sync();
    if (threadIdx.x == 0) {
      const int done = atomicAdd(a.tickets + h, 1) + 1;
      *s.flag = done == pieces;
      if (done == pieces) a.tickets[h] = 0;  // ready for the next layer / step
      __threadfence();
    }
    consumers_sync();
    if (*s.flag) {  // the last piece of head h: merge every piece in order
      const float* base = a.partials + static_cast<int64_t>(h * pieces) * kItemFloats;
      for (int i = threadIdx.x; i < G * HD; i += kConsumers) {
        const int g = i / HD;
        float mx = -INFINITY;
        for (int q = 0; q < pieces; ++q) mx = fmaxf(mx, __ldcg(base + q * kItemFloats + G * HD + g));
        float sum = 0.0f, den = 0.0f;
        for (int q = 0; q < pieces; ++q) {
          const float* it = base + q * kItemFloats;
          const float f = expf(__ldcg(it + G * HD + g) - mx);
          sum += __ldcg(it + i) * f;
          den += __ldcg(it + G * HD + G + g) * f;
        }
        a.attn[h * G * HD + i] = sum / den;
      }
    }
    consumers_sync();
  }
}

template <class F, int HD, int G>
__global__ __launch_bounds__(kThreads, 1) void decode_layers_kernel(Args a) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900  // launched on sm_90 only (bulk copies)
  extern __shared__ __align__(128) uint8_t smem_base[];
  const Smem s = smem_layout(smem_base, a);
  if (threadIdx.x == 0) {
    for (int i = 0; i < kSlots; ++i) {
      mbarrier_init(&s.full[i], 1);
      mbarrier_init(&s.empty[i], kConsumerWarps);
    }
    mbarrier_init_fence();
  }
  __syncthreads();
  if (threadIdx.x >= kConsumers) {  // the producer warp
    if (threadIdx.x == kConsumers) produce<F>(a, s);
    return;
  }
  uint32_t chunk = 0;
  const int q_dim = a.num_heads * HD;
  int t = 0;  // trace index
  stamp(a, t++);
  // A barrier after each phase, stamped before (block 0's work done) and after (all blocks').
  auto barrier = [&] {
    stamp(a, t++);
    grid_barrier(a.barrier, gridDim.x, [] { consumers_sync(); });
    stamp(a, t++);
  };
  for (int l = 0; l < a.num_layers; ++l) {
    const LayerDesc& L = a.layers[l];
    quantize_normed(s, a.x, a.hidden, L.attn_norm, a.eps);
    consume<F>(a, s, L.p[0], chunk, a.q, false);
    consume<F>(a, s, L.p[1], chunk, a.k, false);
    consume<F>(a, s, L.p[2], chunk, a.v, false);
    barrier();
    attention_phase<HD, G>(a, s, L);
    barrier();
    quantize_into(s, q_dim, [&](int i) { return __ldcg(a.attn + i); });
    consume<F>(a, s, L.p[3], chunk, a.x, true);
    barrier();
    quantize_normed(s, a.x, a.hidden, L.ffn_norm, a.eps);
    consume<F>(a, s, L.p[4], chunk, a.gate, false);
    consume<F>(a, s, L.p[5], chunk, a.up, false);
    barrier();
    quantize_into(s, a.inter, [&](int i) {
      const float g = __ldcg(a.gate + i);
      return silu_gate(g, __ldcg(a.up + i));
    });
    consume<F>(a, s, L.p[6], chunk, a.x, true);
    barrier();
  }
#endif
}

// ---- host side ----

int max_smem_optin() {
  static const int bytes = device_attribute(cudaDevAttrMaxSharedMemoryPerBlockOptin);
  return bytes;
}


// Shared-memory sizes of a stack: the region (max of the activations and the attention sums)
// and the slot size left for the ring; slot 0 when it does not fit.
struct Sizes {
  int region = 0, slot = 0, total = 0;
};
Sizes sizes_of(const DecoderStack& s) {
  const int64_t G = s.num_heads / s.num_kv_heads, hd = s.head_dim;
  const int64_t act_cols = std::max({s.hidden, s.intermediate, s.num_heads * hd});
  const int64_t act = act_cols * 2 + (act_cols / 32) * static_cast<int64_t>(sizeof(ActBlock));
  const int64_t attn = (kConsumerWarps * G * hd + kConsumerWarps * 2 * G) * 4;
  Sizes z;
  z.region = static_cast<int>((std::max(act, attn) + 127) / 128 * 128);
  const int fixed = 2 * kSlots * 8 + 64 * 4 + (kMaxGroup + 1) * kMaxHeadDim * 4 + z.region;
  const int ring = max_smem_optin() - fixed - 128;
  z.slot = ring / kSlots / 128 * 128;
  z.total = kSlots * z.slot + fixed;
  return z;
}

template <class F, int HD, int G>
void launch(const Args& a, int smem, cudaStream_t st) {
  auto kernel = decode_layers_kernel<F, HD, G>;
  static int configured = 0;  // per instantiation: the dynamic shared memory allowed so far
  if (smem > configured) {
    SLUICE_CUDA_CHECK(
        cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
    configured = smem;
  }
  kernel<<<sm_count(), kThreads, smem, st>>>(a);
  SLUICE_CUDA_LAUNCHED();
}

template <class F, int HD>
void launch_group(const Args& a, int G, int smem, cudaStream_t st) {
  switch (G) {
    case 1: return launch<F, HD, 1>(a, smem, st);
    case 2: return launch<F, HD, 2>(a, smem, st);
    case 4: return launch<F, HD, 4>(a, smem, st);
    default: return launch<F, HD, 8>(a, smem, st);
  }
}

template <class F>
void launch_format(const Args& a, int hd, int G, int smem, cudaStream_t st) {
  if (hd == 64) return launch_group<F, 64>(a, G, smem, st);
  launch_group<F, 128>(a, G, smem, st);
}

}  // namespace

bool decode_layers_supported(const DecoderStack& s) {
  static const bool sm90 = device_attribute(cudaDevAttrComputeCapabilityMajor) >= 9;
  if (!sm90) return false;  // bulk copies, mbarrier waits
  if (s.num_layers <= 0 || s.num_kv_heads <= 0 || s.num_heads % s.num_kv_heads != 0) return false;
  const int64_t G = s.num_heads / s.num_kv_heads;
  if (G != 1 && G != 2 && G != 4 && G != 8) return false;
  if (s.head_dim != 64 && s.head_dim != 128) return false;
  if (s.rope.rotary_dim > s.head_dim || s.rope.rotary_dim % 2 != 0) return false;
  const DType t = s.layers[0].wq->dtype;
  if (t != DType::Q4G32 && t != DType::Q8G32 && t != DType::Q8G16) return false;
  const Sizes z = sizes_of(s);
  if (z.slot <= 0) return false;
  for (int64_t l = 0; l < s.num_layers; ++l) {
    const DecoderLayerRef& L = s.layers[l];
    if (L.cache.dtype != KvDtype::F16 || L.cache.head_dim != s.head_dim ||
        L.cache.num_kv_heads != s.num_kv_heads)
      return false;
    for (const Weight* w : {L.wq, L.wk, L.wv, L.wo, L.w_gate, L.w_up, L.w_down}) {
      if (w->dtype != t || w->cols % 128 != 0) return false;  // 16-byte header rows
      if (w->cols / 32 * (code_bytes(t) + header_bytes(t)) > z.slot) return false;
    }
    if (L.wq->cols != s.hidden || L.wo->cols != s.num_heads * s.head_dim ||
        L.w_down->cols != s.intermediate || L.wq->rows != s.num_heads * s.head_dim ||
        L.wk->rows != s.num_kv_heads * s.head_dim || L.wv->rows != L.wk->rows ||
        L.wo->rows != s.hidden || L.w_gate->rows != s.intermediate ||
        L.w_up->rows != s.intermediate || L.w_down->rows != s.hidden)
      return false;
  }
  return true;
}

void decode_layers_descs(const DecoderStack& s, std::vector<uint8_t>* out) {
  std::vector<LayerDesc> descs(static_cast<size_t>(s.num_layers));
  for (int64_t l = 0; l < s.num_layers; ++l) {
    const DecoderLayerRef& L = s.layers[l];
    LayerDesc& d = descs[l];
    const Weight* ws[kProducts] = {L.wq, L.wk, L.wv, L.wo, L.w_gate, L.w_up, L.w_down};
    for (int p = 0; p < kProducts; ++p) {
      const Planes pl = planes(*ws[p], 32);
      d.p[p] = ProductDesc{pl.codes, pl.headers, static_cast<int32_t>(ws[p]->rows),
                           static_cast<int32_t>(pl.units)};
    }
    d.attn_norm = L.attn_norm, d.ffn_norm = L.ffn_norm, d.q_norm = L.q_norm, d.k_norm = L.k_norm;
    d.k_cache = static_cast<__half*>(L.cache.k), d.v_cache = static_cast<__half*>(L.cache.v);
  }
  out->resize(descs.size() * sizeof(LayerDesc));
  std::memcpy(out->data(), descs.data(), out->size());
}

int64_t decode_layers_partials_floats() {
  return static_cast<int64_t>(sm_count()) * (kMaxGroup * kMaxHeadDim + 2 * kMaxGroup);
}
int64_t decode_layers_tickets(const DecoderStack& s) { return s.num_kv_heads; }
int64_t decode_layers_trace_stamps(int64_t num_layers) {
  return 1 + kTracePhases * 2 * num_layers;
}

void decode_layers(const DecoderStack& s, const void* descs, float* partials, int32_t* tickets,
                   void* barrier, uint64_t* trace, bool stream_only, cudaStream_t st) {
  const Sizes z = sizes_of(s);
  Args a{};
  a.layers = static_cast<const LayerDesc*>(descs);
  a.num_layers = static_cast<int>(s.num_layers);
  a.hidden = static_cast<int>(s.hidden), a.inter = static_cast<int>(s.intermediate);
  a.num_heads = static_cast<int>(s.num_heads), a.num_kv_heads = static_cast<int>(s.num_kv_heads);
  a.block_size = static_cast<int>(s.layers[0].cache.block_size);
  a.eps = s.eps, a.scale = s.scale, a.rope = s.rope;
  a.x = s.x, a.q = s.q, a.k = s.k, a.v = s.v, a.attn = s.attn, a.gate = s.gate, a.up = s.up;
  a.position = s.position, a.slot = s.slot, a.block_table = s.block_table;
  a.partials = partials, a.tickets = tickets;
  a.barrier = static_cast<GridBarrierState*>(barrier);
  a.slot_bytes = z.slot, a.region_bytes = z.region;
  a.max_pieces = std::max(1, sm_count() / static_cast<int>(s.num_kv_heads));
  a.trace = reinterpret_cast<unsigned long long*>(trace);
  a.stream_only = stream_only;
  const int G = static_cast<int>(s.num_heads / s.num_kv_heads), hd = static_cast<int>(s.head_dim);
  switch (s.layers[0].wq->dtype) {
    case DType::Q4G32: return launch_format<IntQ4G32>(a, hd, G, z.total, st);
    case DType::Q8G32: return launch_format<IntQ8G32>(a, hd, G, z.total, st);
    default: return launch_format<IntQ8G16>(a, hd, G, z.total, st);
  }
}

}  // namespace sluice::cuda
