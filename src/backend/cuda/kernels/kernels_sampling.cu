// Backend::sample_rows on the GPU: one block per sampled row walks the row in global memory (L2)
// a dozen times and never sorts it. Ranks are found by radix selection on order-preserving keys,
// masses are summed in 2^-40 fixed point (integer sums: the same bits in any order, so a row's
// token depends only on its logits and its RowSampling, never on the batch).
#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/block_argmax.cuh"
#include "backend/cuda/kernels/kernels.h"

namespace sluice::cuda {
namespace {

constexpr int kThreads = 1024;
constexpr int kWarps = kThreads / 32;
constexpr float kFixedOne = 1099511627776.0f;  // 2^40: a probability of 1 (the row's max)

// Larger value -> larger key; -0 is +0 (equal logits rank by id alone).
__device__ __forceinline__ uint32_t order_key(float v) {
  const uint32_t b = __float_as_uint(v == 0.0f ? 0.0f : v);
  return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

// One row as the sampler sees it: NaN read as -inf; disallowed tokens -inf; edited tokens (a bit
// in `edited`, their edit found by bisection of the token-sorted list) rewritten. Staged in
// global memory (L2) once: the passes then read plain floats, several loads in flight.
struct Row {
  const float* x;  // [vocab] raw logits
  int64_t vocab;
  const uint32_t* allowed;  // [(vocab + 31) / 32] or null
  const uint32_t* edited;   // shared [(vocab + 31) / 32]
  const RowSamplingEdit* edits;
  int32_t num_edits;
  float* staged;  // [vocab] edited_value(i), written once, then read by every pass

  __device__ float raw(int64_t i) const {
    const float v = x[i];
    return v != v ? -INFINITY : v;
  }
  __device__ float value(int64_t i) const { return staged[i]; }
  __device__ float edited_value(int64_t i) const {
    if (allowed && !((allowed[i >> 5] >> (i & 31)) & 1u)) return -INFINITY;
    float v = raw(i);
    if ((edited[i >> 5] >> (i & 31)) & 1u) {
      int32_t lo = 0, hi = num_edits - 1;
      while (lo < hi) {
        const int32_t mid = (lo + hi) / 2;
        if (edits[mid].token < i)
          lo = mid + 1;
        else
          hi = mid;
      }
      const RowSamplingEdit& e = edits[lo];
      v += e.add;
      if (e.rep != 1.0f) v = v > 0.0f ? v / e.rep : v * e.rep;
      v -= e.sub;
      if (v != v) v = -INFINITY;
    }
    return v;
  }
};

// Members of a ranking prefix (value descending, then id ascending): key above `key`, or equal
// and id <= last_tie. {0, vocab} holds everything.
struct Cut {
  uint32_t key;
  int64_t last_tie;
  __device__ bool holds(uint32_t k, int64_t i) const {
    return k > key || (k == key && i <= last_tie);
  }
};

__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
__device__ __forceinline__ uint64_t warp_sum(uint64_t v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ double warp_sum(double v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Shared scratch of the block reductions and selections.
struct Scratch {
  float f[kWarps];
  double d[kWarps];
  uint64_t u[kWarps];
  uint64_t hist[256];
  uint32_t prefix;
  uint64_t above;   // count or mass of keys above the current prefix
  int hit_warp;     // first_reaching: the warp whose range holds the crossing,
  uint64_t before;  // the weight before that range,
  int64_t found;    // and the id found
  int32_t num_top;
};

template <class F>
__device__ float block_max(int64_t n, F f, Scratch& s) {
  float m = -INFINITY;
#pragma unroll 8
  for (int64_t i = threadIdx.x; i < n; i += kThreads) m = fmaxf(m, f(i));
  m = warp_max(m);
  if (threadIdx.x % 32 == 0) s.f[threadIdx.x / 32] = m;
  __syncthreads();
  m = s.f[0];
  for (int w = 1; w < kWarps; ++w) m = fmaxf(m, s.f[w]);
  __syncthreads();
  return m;
}

// The sum of f(i) as T (double or uint64_t) in a fixed order (thread strides, then a fixed
// tree): the same bits on every run.
template <class T, class F>
__device__ T block_sum(int64_t n, F f, Scratch& s) {
  T* slots = nullptr;
  if constexpr (std::is_same_v<T, double>)
    slots = s.d;
  else
    slots = s.u;
  T t = 0;
#pragma unroll 8
  for (int64_t i = threadIdx.x; i < n; i += kThreads) t += f(i);
  t = warp_sum(t);
  if (threadIdx.x % 32 == 0) slots[threadIdx.x / 32] = t;
  __syncthreads();
  t = 0;
  for (int w = 0; w < kWarps; ++w) t += slots[w];
  __syncthreads();
  return t;
}

// The first id i with base + sum_{j <= i} w(j) >= target (weights >= 0; vocab - 1 if never).
// Each warp owns a contiguous range; the warp holding the crossing walks it 32 ids at a time.
template <class W>
__device__ int64_t first_reaching(int64_t n, W w, uint64_t base, uint64_t target, Scratch& s) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t span = ((n + kWarps - 1) / kWarps + 31) / 32 * 32;
  const int64_t begin = warp * span, end = min(n, begin + span);
  uint64_t t = 0;
#pragma unroll 8
  for (int64_t i = begin + lane; i < end; i += 32) t += w(i);
  t = warp_sum(t);
  if (lane == 0) s.u[warp] = t;
  __syncthreads();
  if (threadIdx.x == 0) {
    uint64_t cum = base;
    int hit = kWarps - 1;
    for (int k = 0; k < kWarps; ++k) {
      if (cum + s.u[k] >= target) {
        hit = k;
        break;
      }
      cum += s.u[k];
    }
    s.hit_warp = hit;
    s.before = cum;
    s.found = n - 1;
  }
  __syncthreads();
  if (warp == s.hit_warp) {
    uint64_t cum = s.before;
    for (int64_t i0 = begin; i0 < end; i0 += 32) {
      const int64_t i = i0 + lane;
      uint64_t v = i < end ? w(i) : 0;
      for (int o = 1; o < 32; o <<= 1) {  // inclusive scan
        const uint64_t y = __shfl_up_sync(0xffffffffu, v, o);
        if (lane >= o) v += y;
      }
      const unsigned hit = __ballot_sync(0xffffffffu, cum + v >= target && i < end);
      if (hit) {
        if (lane == 0) s.found = i0 + __ffs(hit) - 1;
        break;
      }
      cum += __shfl_sync(0xffffffffu, v, 31);
    }
  }
  __syncthreads();
  const int64_t found = s.found;
  __syncthreads();
  return found;
}

// The ranking prefix (by key(i) for members of `within`) whose weight first reaches `target`:
// four 8-bit radix passes find the key, then the ties at it are taken in id order. Weights
// must stay below 2^40 + 1; warp_hist: shared [kWarps * 256].
template <class K, class W>
__device__ Cut select_prefix(int64_t n, K key, W w, Cut within, uint64_t target,
                             uint64_t* warp_hist, Scratch& s) {
  uint32_t prefix = 0, mask = 0;
  uint64_t above = 0;
  for (int shift = 24; shift >= 0; shift -= 8) {
    // Per-warp histograms, no atomics: the lanes holding one digit add their weights with
    // redux (the 41-bit weights in 20-bit halves) and their first lane writes the warp's bin.
    // (A block-wide u64 atomic per element serialized on the few digits most values share.)
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    uint64_t* mine = warp_hist + warp * 256;
    for (int b = lane; b < 256; b += 32) mine[b] = 0;
    __syncwarp();
#pragma unroll 4
    for (int64_t base = 0; base < n; base += kThreads) {
      const int64_t i = base + threadIdx.x;
      const uint32_t k = i < n ? key(i) : 0;
      const bool in = i < n && (k & mask) == prefix && within.holds(k, i);
      if (!__ballot_sync(0xffffffffu, in)) continue;
      const uint64_t wi = in ? w(i) : 0;
      const uint32_t digit = in ? (k >> shift) & 255u : 256u;
      const unsigned group = __match_any_sync(0xffffffffu, digit);
      const uint32_t lo = __reduce_add_sync(group, static_cast<uint32_t>(wi & 0xFFFFFu));
      const uint32_t hi = __reduce_add_sync(group, static_cast<uint32_t>(wi >> 20));
      if (in && lane == __ffs(group) - 1) mine[digit] += (static_cast<uint64_t>(hi) << 20) + lo;
      __syncwarp();  // the next iteration's writer of a bin may be another lane
    }
    __syncthreads();
    for (int b = threadIdx.x; b < 256; b += kThreads) {
      uint64_t t = 0;
      for (int w8 = 0; w8 < kWarps; ++w8) t += warp_hist[w8 * 256 + b];
      s.hist[b] = t;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      int digit = 0;
      for (int d = 255; d >= 0; --d) {
        if (above + s.hist[d] >= target) {
          digit = d;
          break;
        }
        above += s.hist[d];
      }
      s.prefix = prefix | (static_cast<uint32_t>(digit) << shift);
      s.above = above;
    }
    __syncthreads();
    prefix = s.prefix;
    above = s.above;
    mask |= 255u << shift;
    __syncthreads();
  }
  // Ties at the key, in id order (members of `within` only), until the target is reached.
  const int64_t last = first_reaching(
      n,
      [&](int64_t i) -> uint64_t {
        const uint32_t k = key(i);
        return k == prefix && within.holds(k, i) ? w(i) : 0;
      },
      above, target, s);
  return Cut{prefix, last};
}

__global__ void __launch_bounds__(kThreads)
    sample_rows_kernel(const float* x, int64_t vocab, const DeviceRowSampling* specs,
                       const RowSamplingEdit* edits, const uint32_t* masks, float* staged,
                       RowSampled* out) {
  extern __shared__ uint64_t dyn[];  // warp_hist [kWarps * 256], then edited [(vocab + 31) / 32]
  uint64_t* warp_hist = dyn;
  uint32_t* edited = reinterpret_cast<uint32_t*>(dyn + kWarps * 256);
  __shared__ Scratch s;
  __shared__ int32_t top_ids[kMaxTopLogprobs];
  const DeviceRowSampling sp = specs[blockIdx.x];
  const int64_t words = (vocab + 31) / 32;
  for (int64_t i = threadIdx.x; i < words; i += kThreads) edited[i] = 0;
  __syncthreads();
  const RowSamplingEdit* row_edits = edits + sp.edit_begin;
  for (int32_t j = threadIdx.x; j < sp.num_edits; j += kThreads) {
    const int32_t t = row_edits[j].token;
    atomicOr(&edited[t >> 5], 1u << (t & 31));
  }
  if (threadIdx.x == 0) s.num_top = 0;
  __syncthreads();
  const Row row{x + sp.row * vocab,
                vocab,
                sp.mask_begin >= 0 ? masks + sp.mask_begin : nullptr,
                edited,
                row_edits,
                sp.num_edits,
                staged + blockIdx.x * vocab};
#pragma unroll 4
  for (int64_t i = threadIdx.x; i < vocab; i += kThreads) row.staged[i] = row.edited_value(i);
  __syncthreads();
  auto ones = [](int64_t) -> uint64_t { return 1; };

  // The raw row's log-softmax normalizer and its top tokens (logprobs).
  float log_z = 0.0f;
  const auto num_top = static_cast<int32_t>(min(static_cast<int64_t>(sp.num_logprobs), vocab));
  if (sp.num_logprobs >= 0) {
    const float m = block_max(
        vocab, [&](int64_t i) { return row.raw(i); }, s);
    if (isfinite(m)) {
      const double z = block_sum<double>(
          vocab, [&](int64_t i) { return static_cast<double>(expf(row.raw(i) - m)); }, s);
      log_z = m + static_cast<float>(log(z));
    } else {
      log_z = m;
    }
    if (num_top > 0) {
      auto raw_key = [&](int64_t i) { return order_key(row.raw(i)); };
      const Cut top = select_prefix(vocab, raw_key, ones, Cut{0, vocab}, num_top, warp_hist, s);
      for (int64_t i = threadIdx.x; i < vocab; i += kThreads)
        if (top.holds(raw_key(i), i)) top_ids[atomicAdd(&s.num_top, 1)] = static_cast<int32_t>(i);
      __syncthreads();
    }
  }

  // The token: greedy, or temperature, top-k, top-p, min-p and the draw.
  auto value = [&](int64_t i) { return row.value(i); };
  const float mx = block_max(vocab, value, s);
  const float inv_t = 1.0f / sp.temperature;
  int64_t token;
  if (!(sp.temperature > 0.0f) || !isfinite(mx) || !isfinite(inv_t)) {
    token = block_argmax<kThreads>(vocab, value);
  } else {
    auto key = [&](int64_t i) { return order_key(row.value(i)); };
    auto mass = [&](int64_t i) -> uint64_t {
      return __float2ull_rn(expf((row.value(i) - mx) * inv_t) * kFixedOne);
    };
    Cut top_k{0, vocab};
    if (sp.top_k > 0 && sp.top_k < vocab)
      top_k = select_prefix(vocab, key, ones, top_k, sp.top_k, warp_hist, s);
    Cut top_p = top_k;
    if (sp.top_p < 1.0f) {
      const uint64_t total = block_sum<uint64_t>(
          vocab, [&](int64_t i) { return top_k.holds(key(i), i) ? mass(i) : 0; }, s);
      const uint64_t target = static_cast<uint64_t>(static_cast<double>(sp.top_p) * total);
      top_p = select_prefix(vocab, key, mass, top_k, target > 0 ? target : 1, warp_hist, s);
    }
    const float log_min_p = sp.min_p > 0.0f ? logf(sp.min_p) : -INFINITY;
    auto kept_mass = [&](int64_t i) -> uint64_t {
      const float v = row.value(i);
      const uint32_t k = order_key(v);
      if (!top_p.holds(k, i) || !top_k.holds(k, i) || !((v - mx) * inv_t >= log_min_p)) return 0;
      return __float2ull_rn(expf((v - mx) * inv_t) * kFixedOne);
    };
    const uint64_t total = block_sum<uint64_t>(vocab, kept_mass, s);
    uint64_t target = static_cast<uint64_t>(sp.u * static_cast<double>(total));
    if (target >= total) target = total - 1;  // u < 1; guards the double rounding
    token = first_reaching(vocab, kept_mass, 0, target + 1, s);  // cum > target
  }

  if (threadIdx.x == 0) {
    RowSampled r{};
    r.token = static_cast<int32_t>(token);
    if (sp.num_logprobs >= 0) {
      r.logprob = row.raw(token) - log_z;
      r.num_top = s.num_top;
      for (int a = 1; a < r.num_top; ++a)  // insertion sort: value descending, then id
        for (int b = a; b > 0; --b) {
          const float vb = row.raw(top_ids[b]), va = row.raw(top_ids[b - 1]);
          if (vb > va || (vb == va && top_ids[b] < top_ids[b - 1])) {
            const int32_t t = top_ids[b];
            top_ids[b] = top_ids[b - 1];
            top_ids[b - 1] = t;
          } else {
            break;
          }
        }
      for (int a = 0; a < r.num_top; ++a) {
        r.top_token[a] = top_ids[a];
        r.top_logprob[a] = row.raw(top_ids[a]) - log_z;
      }
    }
    out[blockIdx.x] = r;
  }
}

}  // namespace

void sample_rows(const float* x, int64_t vocab, const DeviceRowSampling* specs, int64_t rows,
                 const RowSamplingEdit* edits, const uint32_t* masks, float* staged,
                 RowSampled* out, cudaStream_t s) {
  if (rows <= 0) return;
  const size_t smem =
      kWarps * 256 * sizeof(uint64_t) + static_cast<size_t>((vocab + 31) / 32) * sizeof(uint32_t);
  static size_t opted_in = 48 * 1024;
  if (smem > opted_in) {
    SLUICE_CUDA_CHECK(cudaFuncSetAttribute(
        sample_rows_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
    opted_in = smem;
  }
  sample_rows_kernel<<<static_cast<unsigned>(rows), kThreads, smem, s>>>(x, vocab, specs, edits,
                                                                         masks, staged, out);
  SLUICE_CUDA_LAUNCHED();
}

}  // namespace sluice::cuda
