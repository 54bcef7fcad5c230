// Encoder kernels (straightforward; not tuned): LayerNorm, exact GELU, bidirectional attention
// over whole sequences, pooling and L2 normalization.
#include <cmath>
#include <cstdint>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/kernels.h"

namespace sluice::cuda {
namespace {

constexpr int kThreads = 256;

// The sum of v over the block (every thread gets it); shared: kThreads / 32 floats.
__device__ float block_sum(float v, float* shared) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  float total = 0.0f;
  for (int w = 0; w < static_cast<int>(blockDim.x >> 5); ++w) total += shared[w];
  return total;
}

__device__ float block_max(float v, float* shared) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  float m = -INFINITY;
  for (int w = 0; w < static_cast<int>(blockDim.x >> 5); ++w) m = fmaxf(m, shared[w]);
  return m;
}

// One block per row.
__global__ void layer_norm_kernel(const float* x, int64_t dim, const float* weight,
                                  const float* bias, float eps, float* y) {
  __shared__ float shared[kThreads / 32];
  const float* xi = x + blockIdx.x * dim;
  float* yi = y + blockIdx.x * dim;
  float s = 0.0f;
  for (int64_t k = threadIdx.x; k < dim; k += blockDim.x) s += xi[k];
  const float mean = block_sum(s, shared) / static_cast<float>(dim);
  float ss = 0.0f;
  for (int64_t k = threadIdx.x; k < dim; k += blockDim.x) ss += (xi[k] - mean) * (xi[k] - mean);
  const float inv = rsqrtf(block_sum(ss, shared) / static_cast<float>(dim) + eps);
  for (int64_t k = threadIdx.x; k < dim; k += blockDim.x)
    yi[k] = (xi[k] - mean) * inv * weight[k] + bias[k];
}

__global__ void gelu_erf_kernel(const float* x, int64_t count, float* out) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < count) out[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

// One block per (token, head): the token's scores against its sequence's keys in shared memory.
__global__ void bidirectional_attention_kernel(const float* q, const float* k, const float* v,
                                               int64_t num_heads, int64_t head_dim,
                                               const int32_t* query_start, int64_t num_seqs,
                                               float scale, float* out) {
  extern __shared__ float scores[];
  __shared__ float shared[kThreads / 32];
  const int64_t t = blockIdx.x, h = blockIdx.y, row = num_heads * head_dim, off = h * head_dim;
  int64_t lo = 0, hi = num_seqs;  // the sequence s with query_start[s] <= t < query_start[s + 1]
  while (hi - lo > 1) {
    const int64_t mid = (lo + hi) / 2;
    if (query_start[mid] <= t)
      lo = mid;
    else
      hi = mid;
  }
  const int64_t b = query_start[lo], len = query_start[lo + 1] - b;
  const float* qt = q + t * row + off;
  float mx = -INFINITY;
  for (int64_t j = threadIdx.x; j < len; j += blockDim.x) {
    const float* kj = k + (b + j) * row + off;
    float d = 0.0f;
    for (int64_t c = 0; c < head_dim; ++c) d += qt[c] * kj[c];
    scores[j] = d * scale;
    mx = fmaxf(mx, scores[j]);
  }
  mx = block_max(mx, shared);
  float s = 0.0f;
  for (int64_t j = threadIdx.x; j < len; j += blockDim.x) s += scores[j] = expf(scores[j] - mx);
  const float inv = 1.0f / block_sum(s, shared);  // block_sum syncs: every score is written
  for (int64_t c = threadIdx.x; c < head_dim; c += blockDim.x) {
    float acc = 0.0f;
    for (int64_t j = 0; j < len; ++j) acc += scores[j] * v[(b + j) * row + off + c];
    out[t * row + off + c] = acc * inv;
  }
}

// Tiled attention for head_dim <= kMaxTiledHeadDim (FlashAttention's online softmax, fp32):
// one block per (query tile, sequence, head) walks its sequence's key tiles through shared
// memory. Thread (tq, tk) = (tid / 16, tid % 16) scores queries tq + 16 i against keys tk + 16 j
// (i, j < 4) of the tile, then accumulates those queries' output columns tk + 16 c. A row's
// result depends only on its own sequence (tiles start at the sequence's first row).
constexpr int kTileQ = 64, kTileK = 64, kTiledThreads = 256, kMaxTiledHeadDim = 128;
constexpr int kTiledCols = kMaxTiledHeadDim / 16;

size_t tiled_attention_shared_bytes(int64_t head_dim) {
  return static_cast<size_t>((kTileQ + 2 * kTileK) * (head_dim + 1) + kTileQ * (kTileK + 1)) *
         sizeof(float);
}

__global__ void __launch_bounds__(kTiledThreads)
    bidirectional_attention_tiled_kernel(const float* q, const float* k, const float* v,
                                         int64_t num_heads, int64_t head_dim,
                                         const int32_t* query_start, float scale, float* out) {
  extern __shared__ float smem[];
  const int ld = static_cast<int>(head_dim) + 1;  // odd row stride: no bank conflicts
  float* qs = smem;                               // [kTileQ][ld]
  float* ks = qs + kTileQ * ld;                   // [kTileK][ld]
  float* vs = ks + kTileK * ld;                   // [kTileK][ld]
  float* ps = vs + kTileK * ld;                   // [kTileQ][kTileK + 1] softmax numerators
  const int64_t b = query_start[blockIdx.y], len = query_start[blockIdx.y + 1] - b;
  const int64_t q0 = static_cast<int64_t>(blockIdx.x) * kTileQ;
  if (q0 >= len) return;
  const int64_t row = num_heads * head_dim, off = blockIdx.z * head_dim;
  const int hd = static_cast<int>(head_dim), tid = threadIdx.x, tk = tid & 15, tq = tid >> 4;
  const int nq = static_cast<int>(len - q0 < kTileQ ? len - q0 : kTileQ);
  for (int i = tid; i < kTileQ * hd; i += kTiledThreads) {
    const int r = i / hd, c = i % hd;
    qs[r * ld + c] = r < nq ? q[(b + q0 + r) * row + off + c] : 0.0f;
  }
  float m[4], l[4], o[4][kTiledCols];
  for (int i = 0; i < 4; ++i) {
    m[i] = -INFINITY, l[i] = 0.0f;
    for (int c = 0; c < kTiledCols; ++c) o[i][c] = 0.0f;
  }
  for (int64_t k0 = 0; k0 < len; k0 += kTileK) {
    const int nk = static_cast<int>(len - k0 < kTileK ? len - k0 : kTileK);
    __syncthreads();  // the previous tile's K, V and P are read
    for (int i = tid; i < kTileK * hd; i += kTiledThreads) {
      const int r = i / hd, c = i % hd;
      const int64_t src = (b + k0 + r) * row + off + c;
      ks[r * ld + c] = r < nk ? k[src] : 0.0f;
      vs[r * ld + c] = r < nk ? v[src] : 0.0f;
    }
    __syncthreads();
    float sc[4][4] = {};
    for (int c = 0; c < hd; ++c) {
      float qv[4], kv[4];
      for (int i = 0; i < 4; ++i) qv[i] = qs[(tq + 16 * i) * ld + c];
      for (int j = 0; j < 4; ++j) kv[j] = ks[(tk + 16 * j) * ld + c];
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) sc[i][j] = fmaf(qv[i], kv[j], sc[i][j]);
    }
    for (int i = 0; i < 4; ++i) {
      float mx = -INFINITY;
      for (int j = 0; j < 4; ++j) {
        sc[i][j] = tk + 16 * j < nk ? sc[i][j] * scale : -INFINITY;
        mx = fmaxf(mx, sc[i][j]);
      }
      for (int x = 8; x > 0; x >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, x));
      const float m_new = fmaxf(m[i], mx), alpha = expf(m[i] - m_new);
      float sum = 0.0f;
      for (int j = 0; j < 4; ++j) {
        const float p = expf(sc[i][j] - m_new);
        ps[(tq + 16 * i) * (kTileK + 1) + tk + 16 * j] = p;
        sum += p;
      }
      for (int x = 8; x > 0; x >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, x);
      l[i] = l[i] * alpha + sum;
      m[i] = m_new;
      for (int c = 0; c < kTiledCols; ++c) o[i][c] *= alpha;
    }
    __syncthreads();  // every P of the tile is written
    for (int j = 0; j < nk; ++j) {
      float p[4];
      for (int i = 0; i < 4; ++i) p[i] = ps[(tq + 16 * i) * (kTileK + 1) + j];
      for (int c = 0; c < kTiledCols; ++c) {
        const int col = tk + 16 * c;
        if (col < hd) {
          const float vv = vs[j * ld + col];
          for (int i = 0; i < 4; ++i) o[i][c] = fmaf(p[i], vv, o[i][c]);
        }
      }
    }
  }
  for (int i = 0; i < 4; ++i) {
    const int r = tq + 16 * i;
    if (r >= nq) continue;
    const float inv = 1.0f / l[i];
    for (int c = 0; c < kTiledCols; ++c) {
      const int col = tk + 16 * c;
      if (col < hd) out[(b + q0 + r) * row + off + col] = o[i][c] * inv;
    }
  }
}

// One block per sequence, threads over the columns.
__global__ void pool_rows_kernel(const float* x, int64_t dim, const int32_t* query_start, int mode,
                                 float* out) {
  const int64_t s = blockIdx.x, b = query_start[s], e = query_start[s + 1];
  for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) {
    float r;
    if (mode == static_cast<int>(Pooling::kCls)) {
      r = x[b * dim + c];
    } else if (mode == static_cast<int>(Pooling::kLast)) {
      r = x[(e - 1) * dim + c];
    } else {
      r = 0.0f;
      for (int64_t t = b; t < e; ++t) r += x[t * dim + c];
      r /= static_cast<float>(e > b ? e - b : 1);
    }
    out[s * dim + c] = r;
  }
}

__global__ void l2_normalize_kernel(float* x, int64_t dim) {
  __shared__ float shared[kThreads / 32];
  float* xi = x + blockIdx.x * dim;
  float ss = 0.0f;
  for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) ss += xi[c] * xi[c];
  const float inv = 1.0f / fmaxf(sqrtf(block_sum(ss, shared)), 1e-12f);
  for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) xi[c] *= inv;
}

}  // namespace

void layer_norm(const float* x, int64_t n, int64_t dim, const float* weight, const float* bias,
                float eps, float* y, cudaStream_t s) {
  if (n <= 0) return;
  layer_norm_kernel<<<static_cast<unsigned>(n), kThreads, 0, s>>>(x, dim, weight, bias, eps, y);
  SLUICE_CUDA_CHECK(cudaGetLastError());
}

void gelu_erf(const float* x, int64_t count, float* out, cudaStream_t s) {
  if (count <= 0) return;
  const unsigned blocks = static_cast<unsigned>((count + kThreads - 1) / kThreads);
  gelu_erf_kernel<<<blocks, kThreads, 0, s>>>(x, count, out);
  SLUICE_CUDA_CHECK(cudaGetLastError());
}

bool bidirectional_attention_tiled(int64_t head_dim) {
  return head_dim >= 1 && head_dim <= kMaxTiledHeadDim;
}

void bidirectional_attention(const float* q, const float* k, const float* v, int64_t num_heads,
                             int64_t head_dim, const SequenceBatch& batch, float scale, float* out,
                             cudaStream_t s) {
  if (batch.num_tokens <= 0) return;
  if (bidirectional_attention_tiled(head_dim)) {
    const size_t shared = tiled_attention_shared_bytes(head_dim);
    if (shared > 48 * 1024)
      SLUICE_CUDA_CHECK(cudaFuncSetAttribute(bidirectional_attention_tiled_kernel,
                                             cudaFuncAttributeMaxDynamicSharedMemorySize,
                                             static_cast<int>(shared)));
    const dim3 grid(static_cast<unsigned>((batch.max_len + kTileQ - 1) / kTileQ),
                    static_cast<unsigned>(batch.num_seqs), static_cast<unsigned>(num_heads));
    bidirectional_attention_tiled_kernel<<<grid, kTiledThreads, shared, s>>>(
        q, k, v, num_heads, head_dim, batch.query_start, scale, out);
    SLUICE_CUDA_CHECK(cudaGetLastError());
    return;
  }
  const dim3 grid(static_cast<unsigned>(batch.num_tokens), static_cast<unsigned>(num_heads));
  // 4 floats of padding: nvcc merges the score loads of the unrolled V loop into 12-byte reads
  // that may run up to 2 floats past the last score (compute-sanitizer memcheck on the H100).
  const size_t shared = static_cast<size_t>(batch.max_len + 4) * sizeof(float);
  if (shared > 48 * 1024)
    SLUICE_CUDA_CHECK(cudaFuncSetAttribute(bidirectional_attention_kernel,
                                           cudaFuncAttributeMaxDynamicSharedMemorySize,
                                           static_cast<int>(shared)));
  bidirectional_attention_kernel<<<grid, kThreads, shared, s>>>(
      q, k, v, num_heads, head_dim, batch.query_start, batch.num_seqs, scale, out);
  SLUICE_CUDA_CHECK(cudaGetLastError());
}

void pool_rows(const float* x, int64_t dim, const SequenceBatch& batch, Pooling mode, float* out,
               cudaStream_t s) {
  if (batch.num_seqs <= 0) return;
  pool_rows_kernel<<<static_cast<unsigned>(batch.num_seqs), kThreads, 0, s>>>(
      x, dim, batch.query_start, static_cast<int>(mode), out);
  SLUICE_CUDA_CHECK(cudaGetLastError());
}

void l2_normalize(float* x, int64_t n, int64_t dim, cudaStream_t s) {
  if (n <= 0) return;
  l2_normalize_kernel<<<static_cast<unsigned>(n), kThreads, 0, s>>>(x, dim);
  SLUICE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace sluice::cuda
