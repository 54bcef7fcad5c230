// The per-token steps between the q/k/v projections and attention, as one kernel: per-head
// RMSNorm of q and k (Qwen3), RoPE, and the K/V cache write (four to five launches before).
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/kernels.h"
#include "backend/cuda/kernels/kv_element.cuh"
#include "backend/cuda/kernels/pdl.cuh"
#include "backend/cuda/kernels/rope.cuh"
#include "backend/cuda/kernels/row_math.cuh"

namespace sluice::cuda {
namespace {

constexpr int kWarps = 8;
constexpr int kMaxHeadDim = 256;

// Block (t, g): token t, warp w takes head g * kWarps + w of q then k (staged in shared
// memory: norm over it, then each lane rotates its pairs). Blocks (t, 0) also write v.
template <class T>
__global__ __launch_bounds__(kWarps * 32) void prepare_qkv_kernel(QkvInputs in, T* k_cache,
                                                                  T* v_cache) {
  pdl_launch_dependents();  // attention follows
  pdl_wait();
  __shared__ float head_s[kWarps][kMaxHeadDim];
  const int64_t t = blockIdx.x, hd = in.head_dim, half = in.rope.rotary_dim / 2;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t kv_row = in.num_kv_heads * hd;
  const int64_t slot = in.slot_mapping[t];  // < 0: padding, no cache write
  float* buf = head_s[warp];
  const int64_t hh = static_cast<int64_t>(blockIdx.y) * kWarps + warp;
  if (hh < in.num_heads + in.num_kv_heads) {
    const bool is_q = hh < in.num_heads;
    const int64_t kh = hh - in.num_heads;
    float* x = is_q ? in.q + (t * in.num_heads + hh) * hd : in.k + t * kv_row + kh * hd;
    const float* norm = is_q ? in.q_norm : in.k_norm;
    float ss = 0.0f;
    for (int64_t d = lane; d < hd; d += 32) {
      buf[d] = x[d];
      ss += buf[d] * buf[d];
    }
    if (norm) {  // as rms_norm: x * rsqrt(mean(x^2) + eps) * weight
      for (int o = 16; o > 0; o >>= 1) ss += __shfl_xor_sync(0xffffffffu, ss, o);
      const float inv = inv_rms(ss, hd, in.eps);
      for (int64_t d = lane; d < hd; d += 32) buf[d] = buf[d] * inv * norm[d];
    }
    __syncwarp();
    for (int64_t i = lane; i < half; i += 32) {  // a pair belongs to one lane
      const int64_t a = in.rope.interleaved ? 2 * i : i;
      const int64_t b = in.rope.interleaved ? 2 * i + 1 : i + half;
      float sn, cs;
      rope_sincos(rope_position(in.positions, t, in.n, i, in.rope), i, half, in.rope.theta,
                  in.rope.inv_freq, &sn, &cs);
      const float x0 = buf[a], x1 = buf[b];
      buf[a] = x0 * cs - x1 * sn;
      buf[b] = x0 * sn + x1 * cs;
    }
    __syncwarp();
    for (int64_t d = lane; d < hd; d += 32) {
      x[d] = buf[d];
      if (!is_q && slot >= 0) kv_store(k_cache + slot * kv_row + kh * hd + d, buf[d]);
    }
  }
  if (blockIdx.y == 0 && slot >= 0)
    for (int64_t j = threadIdx.x; j < kv_row; j += blockDim.x)
      kv_store(v_cache + slot * kv_row + j, in.v[t * kv_row + j]);
}

}  // namespace

bool prepare_qkv_supported(int64_t head_dim) {
  return head_dim <= kMaxHeadDim;
}

void prepare_qkv(const QkvInputs& in, const KvLayerView& cache, cudaStream_t s) {
  if (in.n <= 0) return;
  with_kv_type(cache.dtype, [&](auto tag) {
    using T = decltype(tag);
    const dim3 grid(static_cast<unsigned>(in.n),
                    static_cast<unsigned>((in.num_heads + in.num_kv_heads + kWarps - 1) / kWarps));
    launch_pdl(prepare_qkv_kernel<T>, grid, dim3(kWarps * 32), s, in, static_cast<T*>(cache.k),
               static_cast<T*>(cache.v));
  });
}

}  // namespace sluice::cuda
