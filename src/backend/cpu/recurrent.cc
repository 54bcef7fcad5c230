// The recurrent ops' CPU kernels (Highway, dynamic dispatch): causal conv + SiLU over tiles of
// channels, the gated delta rule over blocks of columns of one head's state (each block's
// [dk, <= 4 vectors] slice stays in L1 over all of a sequence's tokens), sigmoid gating.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/recurrent.cc"
#include "backend/cpu/hwy_targets.h"
// clang-format off
#include <hwy/foreach_target.h>
#include <hwy/highway.h>
#include <hwy/contrib/math/math-inl.h>
// clang-format on

#include <algorithm>
#include <cmath>
#include <cstring>

#include "backend/cpu/recurrent_kernels.h"

HWY_BEFORE_NAMESPACE();
namespace sluice::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// x / (1 + exp(-x)), exp's argument clamped so it cannot overflow.
template <class D, class V>
V Silu(D d, V x) {
  return hn::Div(x, hn::Add(hn::Set(d, 1.0f), hn::Exp(d, hn::Min(hn::Neg(x), hn::Set(d, 88.0f)))));
}
template <class D, class V>
V Sigmoid(D d, V x) {
  const auto one = hn::Set(d, 1.0f);
  return hn::Div(one, hn::Add(one, hn::Exp(d, hn::Min(hn::Neg(x), hn::Set(d, 88.0f)))));
}

// Row by row over the tile's channels (contiguous loads), each channel's window a ring of its
// last kernel-1 inputs (oldest at `pos`); x is read before out is written, so out may alias x.
void Conv1dSiluChannels(const float* x, int64_t channels, const float* weight, int64_t kernel,
                        float* st, bool fresh, int64_t b, int64_t e, int64_t c0, int64_t c1,
                        float* out) {
  const hn::ScalableTag<float> d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d)), hist = kernel - 1;
  if (e <= b) return;                                // no rows: the state stays as it is
  alignas(64) float wt[kMaxConvKernel][kConvTile];   // [kernel, tile] the weights transposed
  alignas(64) float win[kMaxConvKernel][kConvTile];  // [hist, tile] ring of past inputs
  const int64_t width = c1 - c0, vec_end = width / N * N;
  for (int64_t j = 0; j < kernel; ++j)
    for (int64_t l = 0; l < width; ++l) wt[j][l] = weight[(c0 + l) * kernel + j];
  for (int64_t r = 0; r < hist; ++r)
    for (int64_t l = 0; l < width; ++l) win[r][l] = fresh ? 0.0f : st[r * channels + c0 + l];
  int64_t pos = 0;
  for (int64_t t = b; t < e; ++t) {
    const float* xt = x + t * channels + c0;
    float* yt = out + t * channels + c0;
    for (int64_t l = 0; l < vec_end; l += N) {
      const auto xv = hn::LoadU(d, xt + l);
      auto acc = hn::Mul(hn::Load(d, wt[hist] + l), xv);
      for (int64_t j = 0, r = pos; j < hist; ++j, r = r + 1 == hist ? 0 : r + 1)
        acc = hn::MulAdd(hn::Load(d, wt[j] + l), hn::Load(d, win[r] + l), acc);
      if (hist > 0) hn::Store(xv, d, win[pos] + l);
      hn::StoreU(Silu(d, acc), d, yt + l);
    }
    for (int64_t l = vec_end; l < width; ++l) {
      const float xv = xt[l];
      float acc = wt[hist][l] * xv;
      for (int64_t j = 0, r = pos; j < hist; ++j, r = r + 1 == hist ? 0 : r + 1)
        acc = std::fma(wt[j][l], win[r][l], acc);
      if (hist > 0) win[pos][l] = xv;
      yt[l] = acc / (1.0f + std::exp(-acc));
    }
    if (hist > 0) pos = pos + 1 == hist ? 0 : pos + 1;
  }
  for (int64_t r = 0; r < hist; ++r)
    for (int64_t l = 0; l < width; ++l) st[r * channels + c0 + l] = win[(pos + r) % hist][l];
}

// sum x^2 over x[n] in a fixed order.
float SumSquares(const float* x, int64_t n) {
  const hn::ScalableTag<float> d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  auto acc = hn::Zero(d);
  int64_t i = 0;
  for (; i + N <= n; i += N) {
    const auto v = hn::LoadU(d, x + i);
    acc = hn::MulAdd(v, v, acc);
  }
  float ss = hn::GetLane(hn::SumOfLanes(d, acc));
  for (; i < n; ++i) ss += x[i] * x[i];
  return ss;
}

void DeltaRuleInputs(const float* qkv, const float* a, const float* b, const float* a_neg,
                     const float* dt_bias, const DeltaNetShape& shape, int64_t t0, int64_t t1,
                     float* qk, float* gates) {
  const hn::ScalableTag<float> d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  const int64_t hk = shape.num_k_heads, hv = shape.num_v_heads, dk = shape.head_k_dim;
  const int64_t row = shape.qkv_dim(), qk_row = 2 * hk * dk;
  const double q_scale = 1.0 / std::sqrt(static_cast<double>(dk));
  for (int64_t t = t0; t < t1; ++t) {
    for (int64_t m = 0; m < 2 * hk; ++m) {  // q heads, then k heads
      const float* src = qkv + t * row + m * dk;
      float* dst = qk + t * qk_row + m * dk;
      const double ss = SumSquares(src, dk);
      const float inv = static_cast<float>((m < hk ? q_scale : 1.0) / std::sqrt(ss + shape.eps));
      const auto vinv = hn::Set(d, inv);
      int64_t i = 0;
      for (; i + N <= dk; i += N) hn::StoreU(hn::Mul(hn::LoadU(d, src + i), vinv), d, dst + i);
      for (; i < dk; ++i) dst[i] = src[i] * inv;
    }
    for (int64_t h = 0; h < hv; ++h) {
      const double x = static_cast<double>(a[t * hv + h]) + dt_bias[h];
      const double softplus = x > 20.0 ? x : std::log1p(std::exp(x));
      gates[(t * hv + h) * 2] = static_cast<float>(std::exp(a_neg[h] * softplus));
      gates[(t * hv + h) * 2 + 1] =
          static_cast<float>(1.0 / (1.0 + std::exp(-double{b[t * hv + h]})));
    }
  }
}

// Where one (sequence, value head)'s rows are: q, k rows of qk, v rows of qkv, (decay, beta)
// of gates, out rows; each advances by its stride per token.
struct DeltaRows {
  const float *q, *k, *v, *gates;
  float* out;
  int64_t qk_stride, v_stride, gate_stride, out_stride, len, dk, dv;
};

// NV vectors of columns from j over every token:
//   kv = decay * S^T k;  delta = beta (v - kv);  S = decay S + k delta^T;  out = S^T q
// S^T k of the next token is summed while S is updated (one pass over S per token), in the same
// order as the first token's separate pass, so a split sequence gives the same bits.
template <int NV, class D>
void DeltaColumns(D d, const DeltaRows& r, int64_t j, float* S) {
  using V = decltype(hn::Zero(d));
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  V kv[NV], delta[NV], o[NV];
  for (int u = 0; u < NV; ++u) kv[u] = hn::Zero(d);
  for (int64_t i = 0; i < r.dk; ++i) {  // S^T k of the first token
    const auto ki = hn::Set(d, r.k[i]);
    const float* s = S + i * r.dv + j;
    for (int u = 0; u < NV; ++u) kv[u] = hn::MulAdd(hn::LoadU(d, s + u * N), ki, kv[u]);
  }
  for (int64_t t = 0; t < r.len; ++t) {
    const float* q = r.q + t * r.qk_stride;
    const float* k = r.k + t * r.qk_stride;
    const float* k_next = t + 1 < r.len ? k + r.qk_stride : k;  // the last token's is unused
    const auto decay = hn::Set(d, r.gates[t * r.gate_stride]);
    const auto beta = hn::Set(d, r.gates[t * r.gate_stride + 1]);
    const float* v = r.v + t * r.v_stride + j;
    for (int u = 0; u < NV; ++u) {
      delta[u] = hn::Mul(beta, hn::Sub(hn::LoadU(d, v + u * N), hn::Mul(kv[u], decay)));
      o[u] = hn::Zero(d);
      kv[u] = hn::Zero(d);
    }
    for (int64_t i = 0; i < r.dk; ++i) {
      const auto ki = hn::Set(d, k[i]), qi = hn::Set(d, q[i]), kn = hn::Set(d, k_next[i]);
      float* s = S + i * r.dv + j;
      for (int u = 0; u < NV; ++u) {
        const auto sn = hn::MulAdd(hn::LoadU(d, s + u * N), decay, hn::Mul(ki, delta[u]));
        hn::StoreU(sn, d, s + u * N);
        o[u] = hn::MulAdd(sn, qi, o[u]);
        kv[u] = hn::MulAdd(sn, kn, kv[u]);
      }
    }
    float* y = r.out + t * r.out_stride + j;
    for (int u = 0; u < NV; ++u) hn::StoreU(o[u], d, y + u * N);
  }
}

// The same for one column j, in scalar arithmetic (columns past the last full vector).
void DeltaColumn(const DeltaRows& r, int64_t j, float* S) {
  for (int64_t t = 0; t < r.len; ++t) {
    const float* q = r.q + t * r.qk_stride;
    const float* k = r.k + t * r.qk_stride;
    const float decay = r.gates[t * r.gate_stride], beta = r.gates[t * r.gate_stride + 1];
    float kv = 0.0f;
    for (int64_t i = 0; i < r.dk; ++i) kv = std::fma(S[i * r.dv + j], k[i], kv);
    const float delta = beta * (r.v[t * r.v_stride + j] - kv * decay);
    float o = 0.0f;
    for (int64_t i = 0; i < r.dk; ++i) {
      float& s = S[i * r.dv + j];
      s = std::fma(s, decay, k[i] * delta);
      o = std::fma(s, q[i], o);
    }
    r.out[t * r.out_stride + j] = o;
  }
}

void DeltaRuleColumns(const float* qk, const float* gates, const float* qkv,
                      const DeltaNetShape& shape, int64_t h, int64_t b, int64_t e, int64_t j0,
                      int64_t j1, bool fresh, float* S, float* out) {
  const hn::ScalableTag<float> d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  const int64_t hk = shape.num_k_heads, hv = shape.num_v_heads, dk = shape.head_k_dim,
                dv = shape.head_v_dim;
  const int64_t kh = shape.heads_tiled ? h % hk : h / (hv / hk);
  if (e <= b) return;  // no rows: the state stays as it is
  if (fresh)
    for (int64_t i = 0; i < dk; ++i) std::fill(S + i * dv + j0, S + i * dv + j1, 0.0f);
  const int64_t qk_row = 2 * hk * dk;
  const DeltaRows r{qk + b * qk_row + kh * dk,
                    qk + b * qk_row + (hk + kh) * dk,
                    qkv + b * shape.qkv_dim() + 2 * hk * dk + h * dv,
                    gates + (b * hv + h) * 2,
                    out + (b * hv + h) * dv,
                    qk_row,
                    shape.qkv_dim(),
                    hv * 2,
                    hv * dv,
                    e - b,
                    dk,
                    dv};
  int64_t j = j0;
  for (; j + 4 * N <= j1; j += 4 * N) DeltaColumns<4>(d, r, j, S);
  const int64_t rest = (j1 - j) / N;
  if (rest == 3) DeltaColumns<3>(d, r, j, S);
  if (rest == 2) DeltaColumns<2>(d, r, j, S);
  if (rest == 1) DeltaColumns<1>(d, r, j, S);
  for (j += rest * N; j < j1; ++j) DeltaColumn(r, j, S);
}

void SigmoidMulRows(float* x, const float* gate, int64_t r0, int64_t r1, int64_t dim,
                    int64_t gate_dim) {
  const hn::ScalableTag<float> d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  for (int64_t r = r0; r < r1; ++r) {
    float* xr = x + r * dim;
    const float* g = gate + r * gate_dim;
    int64_t i = 0;
    if (gate_dim == 1) {
      const float s = 1.0f / (1.0f + std::exp(-g[0]));
      for (; i + N <= dim; i += N)
        hn::StoreU(hn::Mul(hn::LoadU(d, xr + i), hn::Set(d, s)), d, xr + i);
      for (; i < dim; ++i) xr[i] *= s;
    } else {
      for (; i + N <= dim; i += N)
        hn::StoreU(hn::Mul(hn::LoadU(d, xr + i), Sigmoid(d, hn::LoadU(d, g + i))), d, xr + i);
      for (; i < dim; ++i) xr[i] *= 1.0f / (1.0f + std::exp(-g[i]));
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace sluice::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sluice::cpu {
HWY_EXPORT(Conv1dSiluChannels);
HWY_EXPORT(DeltaRuleInputs);
HWY_EXPORT(DeltaRuleColumns);
HWY_EXPORT(SigmoidMulRows);

void conv1d_silu_channels(const float* x, int64_t channels, const float* weight, int64_t kernel,
                          float* st, bool fresh, int64_t b, int64_t e, int64_t c0, int64_t c1,
                          float* out) {
  HWY_DYNAMIC_DISPATCH(Conv1dSiluChannels)
  (x, channels, weight, kernel, st, fresh, b, e, c0, c1, out);
}
void delta_rule_inputs(const float* qkv, const float* a, const float* b, const float* a_neg,
                       const float* dt_bias, const DeltaNetShape& shape, int64_t t0, int64_t t1,
                       float* qk, float* gates) {
  HWY_DYNAMIC_DISPATCH(DeltaRuleInputs)(qkv, a, b, a_neg, dt_bias, shape, t0, t1, qk, gates);
}
void delta_rule_columns(const float* qk, const float* gates, const float* qkv,
                        const DeltaNetShape& shape, int64_t h, int64_t b, int64_t e, int64_t j0,
                        int64_t j1, bool fresh, float* S, float* out) {
  HWY_DYNAMIC_DISPATCH(DeltaRuleColumns)(qk, gates, qkv, shape, h, b, e, j0, j1, fresh, S, out);
}
void sigmoid_mul_rows(float* x, const float* gate, int64_t r0, int64_t r1, int64_t dim,
                      int64_t gate_dim) {
  HWY_DYNAMIC_DISPATCH(SigmoidMulRows)(x, gate, r0, r1, dim, gate_dim);
}
}  // namespace sluice::cpu
#endif
