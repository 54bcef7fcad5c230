// Element-wise ops, RMSNorm, RoPE, embedding lookups, row gathers and KV-cache writes.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/block_argmax.cuh"
#include "backend/cuda/kernels/dequant.cuh"
#include "backend/cuda/kernels/kernels.h"
#include "backend/cuda/kernels/kv_element.cuh"
#include "backend/cuda/kernels/pdl.cuh"
#include "backend/cuda/kernels/rope.cuh"
#include "backend/cuda/kernels/row_math.cuh"

namespace sluice::cuda {
namespace {

constexpr int kThreads = 256;

int blocks_for(int64_t count) {
  return static_cast<int>((count + kThreads - 1) / kThreads);
}

// One block per output row; each thread decodes columns j = tid, tid + 256, ...
__global__ void embedding_kernel(DType t, Planes table, int64_t cols, const int32_t* ids,
                                 float* out) {
  const int64_t i = blockIdx.x, r = ids[i];
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x)
    out[i * cols + j] = weight_element(t, table, cols, r, j);
}

// One thread per quantized block: its header and codes to their planes (dequant.cuh).
__global__ void to_planar_kernel(const uint8_t* blocks, int64_t count, int64_t block_bytes,
                                 int64_t head_bytes, uint8_t* out) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count) return;
  if (head_bytes == 1) {  // MXFP4: 17-byte blocks, read by bytes
    const uint8_t* b = blocks + i * block_bytes;
    uint32_t w[4];
    for (int k = 0; k < 4; ++k)
      w[k] = b[1 + 4 * k] | b[2 + 4 * k] << 8 | b[3 + 4 * k] << 16 | uint32_t{b[4 + 4 * k]} << 24;
    reinterpret_cast<uint4*>(out)[i] = make_uint4(w[0], w[1], w[2], w[3]);
    out[count * 16 + i] = b[0];
    return;
  }
  const uint32_t* src = reinterpret_cast<const uint32_t*>(blocks + i * block_bytes);
  if (block_bytes == sizeof(BlockQ6G16)) {  // scales | 16 low-nibble bytes | 8 high-bit bytes
    reinterpret_cast<uint4*>(out)[i] = make_uint4(src[1], src[2], src[3], src[4]);
    reinterpret_cast<uint2*>(out + count * 16)[i] = make_uint2(src[5], src[6]);
    reinterpret_cast<uint32_t*>(out + count * 24)[i] = src[0];
    return;
  }
  uint32_t* codes = reinterpret_cast<uint32_t*>(out + i * (block_bytes - head_bytes));
  uint32_t* head =
      reinterpret_cast<uint32_t*>(out + count * (block_bytes - head_bytes) + i * head_bytes);
  const int hw = static_cast<int>(head_bytes / 4), cw = static_cast<int>(block_bytes / 4) - hw;
  for (int k = 0; k < hw; ++k) head[k] = src[k];
  for (int k = 0; k < cw; ++k) codes[k] = src[hw + k];
}

// Sum over the block of v (blockDim.x a multiple of 32, <= 1024).
__device__ float block_sum(float v) {
  __shared__ float partial[32];
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  const int warps = blockDim.x / 32;
  v = lane < warps ? partial[lane] : 0.0f;
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  __syncthreads();  // partial is reused by the next call
  return v;
}

// One block per row: y = x / rms(x) * weight (y may alias x); with `residual`, x += residual
// first (x is updated), normalized first with `residual_weight` (residual / rms(residual) *
// residual_weight: a post-norm; y may then alias the residual, and no weight means no y).
// Each sum rounds alike on every path, so the fused forms give the two-op bits.
__global__ void rms_norm_kernel(float* x, const float* residual, const float* residual_weight,
                                int64_t dim, const float* weight, float eps, float* y) {
  pdl_launch_dependents();  // a product usually follows
  pdl_wait();
  float* xi = x + blockIdx.x * dim;
  float ss = 0.0f;
  if (residual) {
    const float* ri = residual + blockIdx.x * dim;
    float inv_r = 1.0f;
    if (residual_weight) {
      for (int64_t k = threadIdx.x; k < dim; k += blockDim.x) ss += ri[k] * ri[k];
      inv_r = inv_rms(block_sum(ss), dim, eps);
      ss = 0.0f;
    }
    for (int64_t k = threadIdx.x; k < dim; k += blockDim.x) {
      const float r =
          residual_weight ? __fmul_rn(__fmul_rn(ri[k], inv_r), residual_weight[k]) : ri[k];
      const float v = __fadd_rn(xi[k], r);
      xi[k] = v;  // each thread rereads only what it wrote
      ss += v * v;
    }
  } else {
    for (int64_t k = threadIdx.x; k < dim; k += blockDim.x) ss += xi[k] * xi[k];
  }
  if (!weight) return;
  const float inv = inv_rms(block_sum(ss), dim, eps);
  float* yi = y + blockIdx.x * dim;  // may alias the residual: each thread read its own above
  for (int64_t k = threadIdx.x; k < dim; k += blockDim.x) yi[k] = xi[k] * inv * weight[k];
}

// One thread per (token, head, rotated pair).
__global__ void rope_kernel(float* x, int64_t n, int64_t num_heads, int64_t head_dim,
                            const int32_t* positions, int64_t half, RopeParams p) {
  pdl_launch_dependents();
  pdl_wait();
  const int64_t idx = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (idx >= n * num_heads * half) return;
  const int64_t i = idx % half, th = idx / half, t = th / num_heads;
  float sn, cs;
  rope_sincos(rope_position(positions, t, n, i, p), i, half, p.theta, p.inv_freq, &sn, &cs);
  float* xh = x + th * head_dim;
  const int64_t a = p.interleaved ? 2 * i : i, b = p.interleaved ? 2 * i + 1 : i + half;
  const float x0 = xh[a], x1 = xh[b];
  xh[a] = x0 * cs - x1 * sn;
  xh[b] = x0 * sn + x1 * cs;
}

__global__ void silu_mul_kernel(const float* gate, const float* up, int64_t count, float* out) {
  pdl_launch_dependents();  // the down projection follows
  pdl_wait();
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= count) return;
  out[i] = silu_gate(gate[i], up[i]);
}

__global__ void gelu_mul_kernel(const float* gate, const float* up, int64_t count, float* out) {
  pdl_launch_dependents();
  pdl_wait();
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= count) return;
  const float g = gate[i];
  const float m2u = -1.5957691216057308f * (g + 0.044715f * g * g * g);  // -2 sqrt(2/pi) (...)
  out[i] = g / (1.0f + __expf(fminf(m2u, 88.0f))) * up[i];
}

__global__ void swiglu_clamped_kernel(const float* gate, const float* up, int64_t count,
                                      float alpha, float limit, float* out) {
  pdl_launch_dependents();
  pdl_wait();
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= count) return;
  out[i] = swiglu_clamped_gate(gate[i], up[i], alpha, limit);
}

__global__ void scale_kernel(float* x, int64_t count, float s) {
  pdl_launch_dependents();
  pdl_wait();
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < count) x[i] *= s;
}

__global__ void add_kernel(float* x, const float* y, int64_t count) {
  pdl_launch_dependents();
  pdl_wait();
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < count) x[i] += y[i];
}

__global__ void add_bias_kernel(float* x, int64_t count, int64_t dim, const float* bias) {
  pdl_launch_dependents();
  pdl_wait();
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < count) x[i] += bias[i % dim];
}

__global__ void gather_rows_kernel(const float* x, const int32_t* rows, int64_t dim, float* out) {
  pdl_launch_dependents();  // the logits product follows
  pdl_wait();
  const float* src = x + static_cast<int64_t>(rows[blockIdx.x]) * dim;
  for (int64_t j = threadIdx.x; j < dim; j += blockDim.x) out[blockIdx.x * dim + j] = src[j];
}

// One block per row (kArgmaxThreads threads): block_argmax.cuh's rule.
constexpr int kArgmaxThreads = 1024;
constexpr int64_t kArgmaxSlice = 8192;  // columns a block of a sliced row reads
constexpr int64_t kArgmaxMaxSlices = 64;
__global__ void argmax_rows_kernel(const float* x, int64_t cols, int32_t* out) {
  pdl_wait();
  const float* row = x + blockIdx.x * cols;
  const int64_t at = block_argmax<kArgmaxThreads>(cols, [&](int64_t j) { return row[j]; });
  if (threadIdx.x == 0) out[blockIdx.x] = static_cast<int32_t>(at);
}

// Block (slice, row): the first largest of the slice's columns and its value (-inf or NaN
// when none is above -inf: it never wins the merge).
__global__ void argmax_slices_kernel(const float* x, int64_t cols, int64_t slices,
                                     ArgmaxPartial* partials) {
  pdl_wait();
  const int64_t per = (cols + slices - 1) / slices, begin = blockIdx.x * per;
  const int64_t n = max(int64_t{0}, min(cols, begin + per) - begin);
  const float* row = x + blockIdx.y * cols + begin;
  const int64_t at = block_argmax<kArgmaxThreads>(n, [&](int64_t j) { return row[j]; });
  pdl_launch_dependents();
  if (threadIdx.x == 0)
    partials[blockIdx.y * slices + blockIdx.x] =
        ArgmaxPartial{n > 0 ? row[at] : -INFINITY, static_cast<int32_t>(begin + at)};
}

// One warp per row: block_argmax's rule over the slices' values (slices in column order, so the
// lower slice among equals holds the lower column); no value above -inf -> 0.
__global__ void argmax_merge_kernel(const ArgmaxPartial* partials, int64_t slices, int32_t* out) {
  pdl_wait();
  const ArgmaxPartial* p = partials + blockIdx.x * slices;
  const int64_t s = block_argmax<32>(slices, [&](int64_t i) { return p[i].value; });
  if (threadIdx.x == 0) out[blockIdx.x] = p[s].value > -INFINITY ? p[s].at : 0;
}

// One block per token: copies its K and V rows [num_kv_heads * head_dim] into its slot, in the
// cache's element type (f16: round to nearest even).
template <class T>
__global__ void cache_write_kernel(const float* k, const float* v, const int32_t* slots,
                                   int64_t row, T* k_cache, T* v_cache) {
  const int64_t slot = slots[blockIdx.x];
  if (slot < 0) return;  // padding token
  for (int64_t j = threadIdx.x; j < row; j += blockDim.x) {
    kv_store(k_cache + slot * row + j, k[blockIdx.x * row + j]);
    kv_store(v_cache + slot * row + j, v[blockIdx.x * row + j]);
  }
}

}  // namespace

void embedding(const Weight& table, const int32_t* ids, int64_t n, float* out, cudaStream_t s) {
  if (n <= 0) return;
  embedding_kernel<<<static_cast<unsigned>(n), kThreads, 0, s>>>(table.dtype, planes(table, 1),
                                                                 table.cols, ids, out);
  SLUICE_CUDA_LAUNCHED();
}

void to_planar(const Weight& w, uint8_t* out, cudaStream_t s) {
  const int64_t count = w.rows * (w.cols / kQuantBlock);
  if (count <= 0) return;
  const int64_t block_bytes = static_cast<int64_t>(row_bytes(w.dtype, kQuantBlock));
  to_planar_kernel<<<blocks_for(count), kThreads, 0, s>>>(w.data, count, block_bytes,
                                                          header_bytes(w.dtype), out);
  SLUICE_CUDA_LAUNCHED();
}

void rms_norm(const float* x, int64_t n, int64_t dim, const float* weight, float eps, float* y,
              cudaStream_t s) {
  if (n <= 0) return;
  const int threads = dim >= 1024 ? 1024 : dim >= 256 ? 256 : 64;
  // x is only read without a residual.
  launch_pdl(rms_norm_kernel, dim3(static_cast<unsigned>(n)), dim3(threads), s,
             const_cast<float*>(x), nullptr, nullptr, dim, weight, eps, y);
}

void add_rms_norm(float* x, const float* residual, int64_t n, int64_t dim, const float* weight,
                  float eps, float* y, cudaStream_t s) {
  if (n <= 0) return;
  const int threads = dim >= 1024 ? 1024 : dim >= 256 ? 256 : 64;
  launch_pdl(rms_norm_kernel, dim3(static_cast<unsigned>(n)), dim3(threads), s, x, residual,
             nullptr, dim, weight, eps, y);
}

void add_normed_rms_norm(float* x, const float* r, const float* r_weight, int64_t n, int64_t dim,
                         const float* weight, float eps, float* y, cudaStream_t s) {
  if (n <= 0) return;
  const int threads = dim >= 1024 ? 1024 : dim >= 256 ? 256 : 64;
  launch_pdl(rms_norm_kernel, dim3(static_cast<unsigned>(n)), dim3(threads), s, x, r, r_weight, dim,
             weight, eps, y);
}

void rope(float* x, int64_t n, int64_t num_heads, int64_t head_dim, const int32_t* positions,
          const RopeParams& p, cudaStream_t s) {
  const int64_t half = p.rotary_dim / 2, count = n * num_heads * half;
  if (count <= 0) return;
  launch_pdl(rope_kernel, dim3(blocks_for(count)), dim3(kThreads), s, x, n, num_heads, head_dim,
             positions, half, p);
}

void silu_mul(const float* gate, const float* up, int64_t count, float* out, cudaStream_t s) {
  if (count <= 0) return;
  launch_pdl(silu_mul_kernel, dim3(blocks_for(count)), dim3(kThreads), s, gate, up, count, out);
}

void gelu_mul(const float* gate, const float* up, int64_t count, float* out, cudaStream_t s) {
  if (count <= 0) return;
  launch_pdl(gelu_mul_kernel, dim3(blocks_for(count)), dim3(kThreads), s, gate, up, count, out);
}

void swiglu_clamped(const float* gate, const float* up, int64_t count, float alpha, float limit,
                    float* out, cudaStream_t s) {
  if (count <= 0) return;
  launch_pdl(swiglu_clamped_kernel, dim3(blocks_for(count)), dim3(kThreads), s, gate, up, count,
             alpha, limit, out);
}

void scale(float* x, int64_t count, float f, cudaStream_t s) {
  if (count <= 0) return;
  launch_pdl(scale_kernel, dim3(blocks_for(count)), dim3(kThreads), s, x, count, f);
}

void add(float* x, const float* y, int64_t count, cudaStream_t s) {
  if (count <= 0) return;
  launch_pdl(add_kernel, dim3(blocks_for(count)), dim3(kThreads), s, x, y, count);
}

void add_bias(float* x, int64_t n, int64_t dim, const float* bias, cudaStream_t s) {
  if (n * dim <= 0) return;
  launch_pdl(add_bias_kernel, dim3(blocks_for(n * dim)), dim3(kThreads), s, x, n * dim, dim, bias);
}

void gather_rows(const float* x, const int32_t* rows, int64_t m, int64_t dim, float* out,
                 cudaStream_t s) {
  if (m <= 0) return;
  launch_pdl(gather_rows_kernel, dim3(static_cast<unsigned>(m)), dim3(kThreads), s, x, rows, dim,
             out);
}

void cache_write(const float* k, const float* v, int64_t n, const int32_t* slot_mapping,
                 const KvLayerView& cache, cudaStream_t s) {
  if (n <= 0) return;
  with_kv_type(cache.dtype, [&](auto tag) {
    using T = decltype(tag);
    cache_write_kernel<T><<<static_cast<unsigned>(n), kThreads, 0, s>>>(
        k, v, slot_mapping, cache.num_kv_heads * cache.head_dim, static_cast<T*>(cache.k),
        static_cast<T*>(cache.v));
  });
  SLUICE_CUDA_LAUNCHED();
}

int64_t argmax_slices(int64_t cols) {
  if (cols < 2 * kArgmaxSlice) return 1;
  return std::min(kArgmaxMaxSlices, (cols + kArgmaxSlice - 1) / kArgmaxSlice);
}

void argmax_rows(const float* x, int64_t rows, int64_t cols, int32_t* out, ArgmaxPartial* partials,
                 cudaStream_t s) {
  if (rows <= 0) return;
  const int64_t slices = argmax_slices(cols);
  if (slices == 1) {
    launch_pdl(argmax_rows_kernel, dim3(static_cast<unsigned>(rows)), dim3(kArgmaxThreads), s, x,
               cols, out);
    return;
  }
  launch_pdl(argmax_slices_kernel, dim3(static_cast<unsigned>(slices), static_cast<unsigned>(rows)),
             dim3(kArgmaxThreads), s, x, cols, slices, partials);
  launch_pdl(argmax_merge_kernel, dim3(static_cast<unsigned>(rows)), dim3(32), s,
             static_cast<const ArgmaxPartial*>(partials), slices, out);
}

}  // namespace sluice::cuda
