// Recurrent kernels (gated delta-net layers): causal conv + SiLU, the gated delta rule, sigmoid
// gating. Every per-sequence value (row ranges, slots, fresh flags) is read on the device, so
// the launches need no host sync and can be recorded in CUDA graphs.
#include <cmath>
#include <cstdint>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/kernels.h"
#include "common/assert.h"

namespace sluice::cuda {
namespace {

constexpr int kThreads = 256;  // sigmoid_mul

// One block per (sequence, kConvChannels channels); its kConvChunks rows of threads take
// consecutive chunks of the sequence's rows. Each thread first reads the kernel-1 inputs before
// its chunk (earlier rows of x, or the state) into registers; after a barrier it runs over its
// chunk, reading x rows before writing their out rows, and the last chunk's thread writes the
// state. Every read precedes every write to the same place, so out may alias x.
constexpr int kConvChannels = 32;
constexpr int kConvChunks = 8;
constexpr int kConvBatch = 4;  // rows loaded ahead
constexpr int kConvThreads = kConvChannels * kConvChunks;

template <int K>
__global__ void __launch_bounds__(kConvThreads)
    conv1d_silu_kernel(const float* x, int64_t channels, const float* weight, float* state,
                       const int32_t* query_start, const int32_t* slots, const int32_t* fresh,
                       float* out) {
  constexpr int H = K - 1;
  const int64_t c = static_cast<int64_t>(blockIdx.x) * kConvChannels + threadIdx.x;
  const int64_t s = blockIdx.y;
  const int64_t b = query_start[s], e = query_start[s + 1];
  if (e <= b) return;  // the whole block: no rows, the state stays as it is
  const bool live = c < channels;
  const int64_t len = e - b, per = (len + kConvChunks - 1) / kConvChunks;
  const int64_t t0 = b + min(len, threadIdx.y * per), t1 = b + min(len, (threadIdx.y + 1) * per);
  float* st = state + static_cast<int64_t>(slots[s]) * H * channels + c;  // [H, channels]
  const bool zero = fresh[s] != 0;
  float w[K], win[H > 0 ? H : 1];  // the window: rows t0 - H .. t0 - 1, oldest first
  if (live) {
#pragma unroll
    for (int j = 0; j < K; ++j) w[j] = weight[c * K + j];
#pragma unroll
    for (int r = 0; r < H; ++r) {
      const int64_t t = t0 - H + r;
      win[r] = t >= b ? x[t * channels + c] : zero ? 0.0f : st[(t - b + H) * channels];
    }
  }
  __syncthreads();  // every window is read before any out row or state is written
  if (!live) return;
  for (int64_t t = t0; t < t1; t += kConvBatch) {
    float xs[kConvBatch];
#pragma unroll
    for (int u = 0; u < kConvBatch; ++u) xs[u] = t + u < t1 ? x[(t + u) * channels + c] : 0.0f;
#pragma unroll
    for (int u = 0; u < kConvBatch; ++u) {
      if (t + u >= t1) break;
      float acc = w[H] * xs[u];
#pragma unroll
      for (int j = 0; j < H; ++j) acc = fmaf(w[j], win[j], acc);
#pragma unroll
      for (int j = 0; j + 1 < H; ++j) win[j] = win[j + 1];
      if (H > 0) win[H > 0 ? H - 1 : 0] = xs[u];
      out[(t + u) * channels + c] = acc / (1.0f + expf(-acc));
    }
  }
  if (threadIdx.y == kConvChunks - 1) {  // its window ends at the sequence's last row
#pragma unroll
    for (int r = 0; r < H; ++r) st[r * channels] = win[r];
  }
}

// The gated delta rule: one block per (sequence, value head, kDeltaColumns columns of S). Column
// j of S [dk, dv] is spread over kSplit consecutive threads, each holding rows sub, sub + kSplit,
// ... in registers (R of them); S^T k and S^T q of a column are summed over those threads by
// shuffles. Tokens go in chunks of kChunk: all warps load the chunk's q, k, v and gates at once
// (each warp normalizing whole tokens' q and k) into shared memory, then every thread runs the
// chunk's tokens with no barrier; two barriers per chunk. Each token's arithmetic is the same
// wherever its chunk starts, so a sequence split over calls gives the bits of one call.
constexpr int kSplit = 8;  // threads per column: 8 warps a block, for latency hiding
constexpr int kDeltaColumns = 32;
constexpr int kDeltaThreads = kSplit * kDeltaColumns;
constexpr int kDeltaWarps = kDeltaThreads / 32;
constexpr int kMaxHeadDim = 256;
constexpr int kFetch = kMaxHeadDim / 32;  // q or k values per lane
constexpr int kChunk = 16;                // tokens staged at once

struct DeltaArgs {
  const float *qkv, *a, *b, *a_neg, *dt_bias;
  float* state;
  const int32_t *query_start, *slots, *fresh;
  float* out;
  int hk, hv, dk, dv;
  bool tiled;
  float eps;
};

__device__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// dst[i] = src[i] / sqrt(sum src^2 + eps) * scale for i < dk, by one warp (a fixed lane order).
__device__ void normalize_head(const float* src, int dk, float eps, float scale, float* dst) {
  const int lane = static_cast<int>(threadIdx.x) % 32;
  float x[kFetch], ss = 0.0f;
#pragma unroll
  for (int m = 0; m < kFetch; ++m) {
    const int i = lane + 32 * m;
    x[m] = i < dk ? src[i] : 0.0f;
  }
#pragma unroll
  for (int m = 0; m < kFetch; ++m) ss = fmaf(x[m], x[m], ss);
  const float inv = 1.0f / sqrtf(warp_sum(ss) + eps) * scale;
#pragma unroll
  for (int m = 0; m < kFetch; ++m) {
    const int i = lane + 32 * m;
    if (i < dk) dst[i] = x[m] * inv;
  }
}

// R rows of S per thread; kExact: dk == R * kSplit (no row is out of range).
template <int R, bool kExact>
__global__ void __launch_bounds__(kDeltaThreads, (kExact && R <= 32) ? 4 : 1)
    gated_delta_rule_kernel(DeltaArgs p) {
  __shared__ float qs[kChunk][kMaxHeadDim], ks[kChunk][kMaxHeadDim];
  __shared__ float vs[kChunk][kDeltaColumns], gates[kChunk][2];
  const int col_blocks = (p.dv + kDeltaColumns - 1) / kDeltaColumns;
  const int h = static_cast<int>(blockIdx.x) / col_blocks;
  const int col0 = static_cast<int>(blockIdx.x) % col_blocks * kDeltaColumns;
  const int jl = static_cast<int>(threadIdx.x) / kSplit, j = col0 + jl;
  const int sub = static_cast<int>(threadIdx.x) % kSplit;
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  const int64_t s = blockIdx.y;
  const int64_t t0 = p.query_start[s], t1 = p.query_start[s + 1];
  if (t1 <= t0) return;  // the whole block: no rows, the state stays as it is
  const int kh = p.tiled ? h % p.hk : h / (p.hv / p.hk);
  const int64_t row = 2 * static_cast<int64_t>(p.hk) * p.dk + static_cast<int64_t>(p.hv) * p.dv;
  const bool active = j < p.dv;
  auto in_range = [&](int r) { return kExact || r * kSplit + sub < p.dk; };
  // [dk, dv] of this head; offsets within it fit in int (dk <= 256, dv < 2^23).
  float* S = p.state + (static_cast<int64_t>(p.slots[s]) * p.hv + h) * p.dk * p.dv;
  const bool zero = p.fresh[s] != 0;
  float reg[R];  // S[sub + kSplit r, j]
#pragma unroll
  for (int r = 0; r < R; ++r)
    reg[r] = !zero && active && in_range(r) ? S[(r * kSplit + sub) * p.dv + j] : 0.0f;
  const int64_t q_off = static_cast<int64_t>(kh) * p.dk;
  const int64_t k_off = (static_cast<int64_t>(p.hk) + kh) * p.dk;
  const int64_t v_off = 2 * static_cast<int64_t>(p.hk) * p.dk + static_cast<int64_t>(h) * p.dv;
  const float q_scale = 1.0f / sqrtf(static_cast<float>(p.dk));
  const float a_neg = p.a_neg[h], dt_bias = p.dt_bias[h];
  for (int64_t c0 = t0; c0 < t1; c0 += kChunk) {
    const int n = static_cast<int>(min(static_cast<int64_t>(kChunk), t1 - c0));
    __syncthreads();                               // the previous chunk is no longer read
    for (int u = warp; u < n; u += kDeltaWarps) {  // each warp whole tokens
      const float* x = p.qkv + (c0 + u) * row;
      normalize_head(x + q_off, p.dk, p.eps, q_scale, qs[u]);
      normalize_head(x + k_off, p.dk, p.eps, 1.0f, ks[u]);
      if (lane == 0) {
        const float xa = p.a[(c0 + u) * p.hv + h] + dt_bias;
        const float softplus = xa > 20.0f ? xa : log1pf(expf(xa));
        gates[u][0] = expf(a_neg * softplus);
        gates[u][1] = 1.0f / (1.0f + expf(-p.b[(c0 + u) * p.hv + h]));
      }
    }
    for (int e = static_cast<int>(threadIdx.x); e < n * kDeltaColumns; e += kDeltaThreads) {
      const int u = e / kDeltaColumns, c = e % kDeltaColumns;
      vs[u][c] = col0 + c < p.dv ? p.qkv[(c0 + u) * row + v_off + col0 + c] : 0.0f;
    }
    __syncthreads();  // the chunk is staged
    for (int u = 0; u < n; ++u) {
      const float decay = gates[u][0], beta = gates[u][1], v = vs[u][jl];
      const float* k = ks[u];
      const float* q = qs[u];
      float kv[2] = {0.0f, 0.0f};  // two chains (even and odd r), summed in a fixed order
#pragma unroll
      for (int r = 0; r < R; ++r)
        if (in_range(r)) kv[r & 1] = fmaf(reg[r], k[r * kSplit + sub], kv[r & 1]);
      float sum = kv[0] + kv[1];
#pragma unroll
      for (int o = 1; o < kSplit; o <<= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
      const float delta = beta * (v - sum * decay);
      float o[2] = {0.0f, 0.0f};
#pragma unroll
      for (int r = 0; r < R; ++r) {
        if (in_range(r)) {
          const int i = r * kSplit + sub;
          reg[r] = fmaf(reg[r], decay, k[i] * delta);
          o[r & 1] = fmaf(reg[r], q[i], o[r & 1]);
        }
      }
      float y = o[0] + o[1];
#pragma unroll
      for (int m = 1; m < kSplit; m <<= 1) y += __shfl_xor_sync(0xffffffffu, y, m);
      if (active && sub == 0) p.out[((c0 + u) * p.hv + h) * p.dv + j] = y;
    }
  }
  if (!active) return;
#pragma unroll
  for (int r = 0; r < R; ++r)
    if (in_range(r)) S[(r * kSplit + sub) * p.dv + j] = reg[r];
}

__global__ void sigmoid_mul_kernel(float* x, const float* gate, int64_t count, int64_t dim,
                                   int64_t gate_dim) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const int64_t r = i / dim, c = i % dim;
  x[i] *= 1.0f / (1.0f + expf(-gate[r * gate_dim + (gate_dim == 1 ? 0 : c)]));
}

template <int K>
void launch_conv(const float* x, int64_t channels, const float* weight, float* state,
                 const RecurrentBatch& batch, float* out, cudaStream_t s) {
  const dim3 grid(static_cast<unsigned>((channels + kConvChannels - 1) / kConvChannels),
                  static_cast<unsigned>(batch.num_seqs));
  conv1d_silu_kernel<K><<<grid, dim3(kConvChannels, kConvChunks), 0, s>>>(
      x, channels, weight, state, batch.query_start, batch.state_slots, batch.fresh, out);
  SLUICE_CUDA_LAUNCHED();
}

template <int R>
void launch_delta(const DeltaArgs& p, int64_t num_seqs, cudaStream_t s) {
  const int col_blocks = (p.dv + kDeltaColumns - 1) / kDeltaColumns;
  const dim3 grid(static_cast<unsigned>(p.hv * col_blocks), static_cast<unsigned>(num_seqs));
  if (p.dk == R * kSplit)
    gated_delta_rule_kernel<R, true><<<grid, kDeltaThreads, 0, s>>>(p);
  else
    gated_delta_rule_kernel<R, false><<<grid, kDeltaThreads, 0, s>>>(p);
  SLUICE_CUDA_LAUNCHED();
}

}  // namespace

void causal_conv1d_silu(const float* x, int64_t channels, const float* weight, int64_t kernel,
                        float* state, const RecurrentBatch& batch, float* out, cudaStream_t s) {
  SLUICE_ASSERT(kernel >= 1 && kernel <= kMaxConvKernel, "conv kernel size out of range");
  SLUICE_ASSERT(batch.num_seqs <= 65535, "too many sequences for one launch");
  if (batch.num_seqs <= 0 || batch.num_tokens <= 0 || channels <= 0) return;
  switch (kernel) {
    case 1:
      return launch_conv<1>(x, channels, weight, state, batch, out, s);
    case 2:
      return launch_conv<2>(x, channels, weight, state, batch, out, s);
    case 3:
      return launch_conv<3>(x, channels, weight, state, batch, out, s);
    case 4:
      return launch_conv<4>(x, channels, weight, state, batch, out, s);
    case 5:
      return launch_conv<5>(x, channels, weight, state, batch, out, s);
    case 6:
      return launch_conv<6>(x, channels, weight, state, batch, out, s);
    case 7:
      return launch_conv<7>(x, channels, weight, state, batch, out, s);
    default:
      return launch_conv<8>(x, channels, weight, state, batch, out, s);
  }
}

void gated_delta_rule(const float* qkv, const float* a, const float* b, const float* a_neg,
                      const float* dt_bias, const DeltaNetShape& shape, float* state,
                      const RecurrentBatch& batch, float* out, cudaStream_t s) {
  SLUICE_ASSERT(shape.head_k_dim >= 1 && shape.head_k_dim <= kMaxHeadDim,
                "delta rule: head_k_dim out of range");
  SLUICE_ASSERT(shape.num_k_heads >= 1 && shape.num_v_heads % shape.num_k_heads == 0,
                "delta rule: value heads must be a multiple of key heads");
  SLUICE_ASSERT(shape.head_v_dim * shape.head_k_dim < (int64_t{1} << 31),
                "delta rule: head too large");
  SLUICE_ASSERT(batch.num_seqs <= 65535, "too many sequences for one launch");
  if (batch.num_seqs <= 0 || batch.num_tokens <= 0 || shape.head_v_dim <= 0) return;
  const DeltaArgs p{qkv,
                    a,
                    b,
                    a_neg,
                    dt_bias,
                    state,
                    batch.query_start,
                    batch.state_slots,
                    batch.fresh,
                    out,
                    static_cast<int>(shape.num_k_heads),
                    static_cast<int>(shape.num_v_heads),
                    static_cast<int>(shape.head_k_dim),
                    static_cast<int>(shape.head_v_dim),
                    shape.heads_tiled,
                    shape.eps};
  const int64_t rows = (shape.head_k_dim + kSplit - 1) / kSplit;  // of S per thread
  if (rows <= 4) return launch_delta<4>(p, batch.num_seqs, s);
  if (rows <= 8) return launch_delta<8>(p, batch.num_seqs, s);
  if (rows <= 16) return launch_delta<16>(p, batch.num_seqs, s);
  return launch_delta<32>(p, batch.num_seqs, s);  // dk <= kMaxHeadDim = 32 * kSplit
}

void sigmoid_mul(float* x, const float* gate, int64_t n, int64_t dim, int64_t gate_dim,
                 cudaStream_t s) {
  const int64_t count = n * dim;
  if (count <= 0) return;
  sigmoid_mul_kernel<<<static_cast<unsigned>((count + kThreads - 1) / kThreads), kThreads, 0, s>>>(
      x, gate, count, dim, gate_dim);
  SLUICE_CUDA_LAUNCHED();
}

}  // namespace sluice::cuda
