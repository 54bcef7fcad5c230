// Reference element-wise ops, norms, rope, embedding and KV-cache writes.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "backend/reference/ref_ops.h"
#include "common/assert.h"

namespace sluice::ref {

void embedding(const Weight& table, const int32_t* ids, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    SLUICE_ASSERT(ids[i] >= 0 && ids[i] < table.rows, "embedding id out of range");
    dequantize_row(table, ids[i], out + i * table.cols);
  }
}

void rms_norm(const float* x, int64_t n, int64_t dim, const float* weight, float eps, float* y) {
  for (int64_t i = 0; i < n; ++i) {
    const float* xi = x + i * dim;
    double ss = 0.0;
    for (int64_t k = 0; k < dim; ++k) ss += static_cast<double>(xi[k]) * xi[k];
    const float inv = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(dim) + eps));
    float* yi = y + i * dim;
    for (int64_t k = 0; k < dim; ++k) yi[k] = xi[k] * inv * weight[k];
  }
}

void default_inv_freq(const RopeParams& p, float* inv_freq) {
  for (int64_t i = 0; i < p.rotary_dim / 2; ++i)
    inv_freq[i] = static_cast<float>(
        1.0 / std::pow(static_cast<double>(p.theta), 2.0 * static_cast<double>(i) / p.rotary_dim));
}

void rope(float* x, int64_t n, int64_t num_heads, int64_t head_dim, const int32_t* positions,
          const RopeParams& p) {
  const int64_t half = p.rotary_dim / 2;
  SLUICE_ASSERT(p.rotary_dim <= head_dim && p.rotary_dim % 2 == 0, "bad rotary_dim");
  std::vector<float> freq(static_cast<size_t>(half));
  if (p.inv_freq) {
    for (int64_t i = 0; i < half; ++i) freq[i] = p.inv_freq[i];
  } else {
    default_inv_freq(p, freq.data());
  }
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t h = 0; h < num_heads; ++h) {
      float* xh = x + (t * num_heads + h) * head_dim;
      for (int64_t i = 0; i < half; ++i) {
        const float angle = static_cast<float>(positions[p.plane_of(i) * n + t]) * freq[i];
        const float c = std::cos(angle), s = std::sin(angle);
        const int64_t a = p.interleaved ? 2 * i : i;
        const int64_t b = p.interleaved ? 2 * i + 1 : i + half;
        const float x0 = xh[a], x1 = xh[b];
        xh[a] = x0 * c - x1 * s;
        xh[b] = x0 * s + x1 * c;
      }
    }
  }
}

void silu_mul(const float* gate, const float* up, int64_t count, float* out) {
  for (int64_t i = 0; i < count; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void gelu_mul(const float* gate, const float* up, int64_t count, float* out) {
  const double c = std::sqrt(2.0 / M_PI);
  for (int64_t i = 0; i < count; ++i) {
    const double g = gate[i];
    out[i] =
        static_cast<float>(0.5 * g * (1.0 + std::tanh(c * (g + 0.044715 * g * g * g))) * up[i]);
  }
}

void swiglu_clamped(const float* gate, const float* up, int64_t count, float alpha, float limit,
                    float* out) {
  for (int64_t i = 0; i < count; ++i) {
    const double g = std::min(gate[i], limit), u = std::clamp(up[i], -limit, limit);
    out[i] = static_cast<float>((u + 1.0) * g / (1.0 + std::exp(-alpha * g)));
  }
}

void scale(float* x, int64_t count, float s) {
  for (int64_t i = 0; i < count; ++i) x[i] *= s;
}

int32_t argmax(const float* x, int64_t n) {
  float best = -INFINITY;
  int32_t at = 0;
  for (int64_t j = 0; j < n; ++j)
    if (x[j] > best) best = x[j], at = static_cast<int32_t>(j);  // NaN: never greater
  return at;
}

void add(float* x, const float* y, int64_t count) {
  for (int64_t i = 0; i < count; ++i) x[i] += y[i];
}

void add_bias(float* x, int64_t n, int64_t dim, const float* bias) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < dim; ++k) x[i * dim + k] += bias[k];
}

void gather_rows(const float* x, const int32_t* rows, int64_t m, int64_t dim, float* out) {
  for (int64_t i = 0; i < m; ++i)
    std::memcpy(out + i * dim, x + static_cast<int64_t>(rows[i]) * dim, sizeof(float) * dim);
}

void cache_write(const float* k, const float* v, int64_t n, const int32_t* slot_mapping,
                 const KvLayerView& cache) {
  const int64_t row = cache.num_kv_heads * cache.head_dim;
  for (int64_t t = 0; t < n; ++t) {
    const int64_t slot = slot_mapping[t];
    if (slot < 0) continue;  // padding token
    SLUICE_ASSERT(slot < cache.num_blocks * cache.block_size, "slot out of range");
    std::memcpy(cache.k_f32() + slot * row, k + t * row, sizeof(float) * row);
    std::memcpy(cache.v_f32() + slot * row, v + t * row, sizeof(float) * row);
  }
}

}  // namespace sluice::ref
