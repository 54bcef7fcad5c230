// Reference recurrent ops (gated delta-net layers): causal_conv1d_silu, gated_delta_rule,
// sigmoid_mul. Double arithmetic within a token; the state is rounded to float after each token
// (as it is stored between calls), so splitting a sequence over calls gives the same bits.
#include <cmath>
#include <vector>

#include "backend/reference/ref_ops.h"

namespace sluice::ref {
namespace {

double sigmoid(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

// torch.nn.functional.softplus with its default threshold of 20.
double softplus(double x) {
  return x > 20.0 ? x : std::log1p(std::exp(x));
}

// x[dim] * rsqrt(sum x^2 + eps) (Hugging Face's l2norm), times `scale`.
std::vector<double> l2norm(const float* x, int64_t dim, float eps, double scale) {
  double ss = 0.0;
  for (int64_t i = 0; i < dim; ++i) ss += static_cast<double>(x[i]) * x[i];
  const double inv = scale / std::sqrt(ss + eps);
  std::vector<double> y(static_cast<size_t>(dim));
  for (int64_t i = 0; i < dim; ++i) y[i] = x[i] * inv;
  return y;
}

}  // namespace

void causal_conv1d_silu(const float* x, int64_t channels, const float* weight, int64_t kernel,
                        float* state, const RecurrentBatch& batch, float* out) {
  const int64_t hist = kernel - 1;
  std::vector<float> stream;  // [hist + len] one channel: the state's rows, then the inputs
  for (int64_t s = 0; s < batch.num_seqs; ++s) {
    const int64_t b = batch.query_start[s], len = batch.query_start[s + 1] - b;
    if (len <= 0) continue;
    float* st = state + static_cast<int64_t>(batch.state_slots[s]) * hist * channels;
    const bool fresh = batch.fresh[s] != 0;
    stream.resize(static_cast<size_t>(hist + len));
    for (int64_t c = 0; c < channels; ++c) {
      for (int64_t r = 0; r < hist; ++r) stream[r] = fresh ? 0.0f : st[r * channels + c];
      for (int64_t t = 0; t < len; ++t) stream[hist + t] = x[(b + t) * channels + c];
      for (int64_t t = 0; t < len; ++t) {
        double acc = 0.0;
        for (int64_t j = 0; j < kernel; ++j)
          acc += static_cast<double>(weight[c * kernel + j]) * stream[t + j];
        out[(b + t) * channels + c] = static_cast<float>(acc * sigmoid(acc));
      }
      for (int64_t r = 0; r < hist; ++r) st[r * channels + c] = stream[len + r];
    }
  }
}

void gated_delta_rule(const float* qkv, const float* a, const float* b, const float* a_neg,
                      const float* dt_bias, const DeltaNetShape& shape, float* state,
                      const RecurrentBatch& batch, float* out) {
  const int64_t hk = shape.num_k_heads, hv = shape.num_v_heads, dk = shape.head_k_dim,
                dv = shape.head_v_dim, row = shape.qkv_dim();
  const double q_scale = 1.0 / std::sqrt(static_cast<double>(dk));
  std::vector<double> delta(static_cast<size_t>(dv));
  for (int64_t s = 0; s < batch.num_seqs; ++s) {
    const int64_t t0 = batch.query_start[s], t1 = batch.query_start[s + 1];
    if (t1 <= t0) continue;
    float* slot = state + static_cast<int64_t>(batch.state_slots[s]) * shape.state_floats();
    for (int64_t h = 0; h < hv; ++h) {
      const int64_t kh = shape.heads_tiled ? h % hk : h / (hv / hk);
      float* S = slot + h * dk * dv;  // [dk, dv]
      if (batch.fresh[s] != 0)
        for (int64_t i = 0; i < dk * dv; ++i) S[i] = 0.0f;
      for (int64_t t = t0; t < t1; ++t) {
        const float* x = qkv + t * row;
        const auto q = l2norm(x + kh * dk, dk, shape.eps, q_scale);
        const auto k = l2norm(x + hk * dk + kh * dk, dk, shape.eps, 1.0);
        const float* v = x + 2 * hk * dk + h * dv;
        const double beta = sigmoid(b[t * hv + h]);
        const double decay =
            std::exp(a_neg[h] * softplus(static_cast<double>(a[t * hv + h]) + dt_bias[h]));
        for (int64_t j = 0; j < dv; ++j) {
          double kv = 0.0;  // (exp(g) S)^T k
          for (int64_t i = 0; i < dk; ++i) kv += S[i * dv + j] * decay * k[i];
          delta[j] = beta * (v[j] - kv);
        }
        for (int64_t i = 0; i < dk; ++i)
          for (int64_t j = 0; j < dv; ++j)
            S[i * dv + j] = static_cast<float>(S[i * dv + j] * decay + k[i] * delta[j]);
        for (int64_t j = 0; j < dv; ++j) {
          double o = 0.0;
          for (int64_t i = 0; i < dk; ++i) o += S[i * dv + j] * q[i];
          out[(t * hv + h) * dv + j] = static_cast<float>(o);
        }
      }
    }
  }
}

void sigmoid_mul(float* x, const float* gate, int64_t n, int64_t dim, int64_t gate_dim) {
  for (int64_t r = 0; r < n; ++r)
    for (int64_t i = 0; i < dim; ++i)
      x[r * dim + i] = static_cast<float>(x[r * dim + i] *
                                          sigmoid(gate[r * gate_dim + (gate_dim == 1 ? 0 : i)]));
}

}  // namespace sluice::ref
