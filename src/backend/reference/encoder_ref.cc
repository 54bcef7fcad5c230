// Reference encoder ops: layer_norm, gelu_erf, bidirectional_attention, pool_rows, l2_normalize.
#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/reference/ref_ops.h"

namespace sluice::ref {

void layer_norm(const float* x, int64_t n, int64_t dim, const float* weight, const float* bias,
                float eps, float* y) {
  for (int64_t i = 0; i < n; ++i) {
    const float* xi = x + i * dim;
    double mean = 0.0, var = 0.0;
    for (int64_t k = 0; k < dim; ++k) mean += xi[k];
    mean /= static_cast<double>(dim);
    for (int64_t k = 0; k < dim; ++k) var += (xi[k] - mean) * (xi[k] - mean);
    const double inv = 1.0 / std::sqrt(var / static_cast<double>(dim) + eps);
    for (int64_t k = 0; k < dim; ++k)
      y[i * dim + k] = static_cast<float>((xi[k] - mean) * inv * weight[k] + bias[k]);
  }
}

void gelu_erf(const float* x, int64_t count, float* out) {
  for (int64_t i = 0; i < count; ++i) {
    const double g = x[i];
    out[i] = static_cast<float>(0.5 * g * (1.0 + std::erf(g / std::sqrt(2.0))));
  }
}

void bidirectional_attention(const float* q, const float* k, const float* v, int64_t num_heads,
                             int64_t head_dim, const SequenceBatch& batch, float scale,
                             float* out) {
  const int64_t row = num_heads * head_dim;
  std::vector<double> p;
  for (int64_t s = 0; s < batch.num_seqs; ++s) {
    const int64_t b = batch.query_start[s], e = batch.query_start[s + 1];
    p.resize(static_cast<size_t>(e - b));
    for (int64_t t = b; t < e; ++t)
      for (int64_t h = 0; h < num_heads; ++h) {
        const float* qt = q + t * row + h * head_dim;
        double mx = -INFINITY, sum = 0.0;
        for (int64_t j = b; j < e; ++j) {
          double d = 0.0;
          for (int64_t c = 0; c < head_dim; ++c)
            d += static_cast<double>(qt[c]) * k[j * row + h * head_dim + c];
          p[j - b] = d * scale;
          mx = std::max(mx, p[j - b]);
        }
        for (int64_t j = b; j < e; ++j) sum += p[j - b] = std::exp(p[j - b] - mx);
        for (int64_t c = 0; c < head_dim; ++c) {
          double acc = 0.0;
          for (int64_t j = b; j < e; ++j) acc += p[j - b] * v[j * row + h * head_dim + c];
          out[t * row + h * head_dim + c] = static_cast<float>(acc / sum);
        }
      }
  }
}

void pool_rows(const float* x, int64_t dim, const SequenceBatch& batch, Pooling mode, float* out) {
  for (int64_t s = 0; s < batch.num_seqs; ++s) {
    const int64_t b = batch.query_start[s], e = batch.query_start[s + 1];
    for (int64_t c = 0; c < dim; ++c) {
      if (mode == Pooling::kCls) {
        out[s * dim + c] = x[b * dim + c];
      } else if (mode == Pooling::kLast) {
        out[s * dim + c] = x[(e - 1) * dim + c];
      } else {
        double acc = 0.0;
        for (int64_t t = b; t < e; ++t) acc += x[t * dim + c];
        out[s * dim + c] =
            static_cast<float>(acc / static_cast<double>(std::max<int64_t>(e - b, 1)));
      }
    }
  }
}

void l2_normalize(float* x, int64_t n, int64_t dim) {
  for (int64_t i = 0; i < n; ++i) {
    double ss = 0.0;
    for (int64_t c = 0; c < dim; ++c) ss += static_cast<double>(x[i * dim + c]) * x[i * dim + c];
    const double inv = 1.0 / std::max(std::sqrt(ss), 1e-12);
    for (int64_t c = 0; c < dim; ++c) x[i * dim + c] = static_cast<float>(x[i * dim + c] * inv);
  }
}

}  // namespace sluice::ref
