// ref::sample_rows: the definition of Backend::sample_rows, step by step, with no shortcuts.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "backend/reference/ref_ops.h"

namespace sluice::ref {
namespace {

float sanitized(float v) {
  return std::isnan(v) ? -INFINITY : v;
}

// The row as the sampler sees it: disallowed tokens -inf, then each edit, NaN read as -inf.
std::vector<float> edited_row(const float* raw, int64_t vocab, const RowSampling& r) {
  std::vector<float> v(raw, raw + vocab);
  for (int64_t i = 0; i < vocab; ++i) {
    v[i] = sanitized(v[i]);
    if (r.allowed && !((r.allowed[i >> 5] >> (i & 31)) & 1u)) v[i] = -INFINITY;
  }
  for (const RowSamplingEdit& e : r.edits) {
    float y = v[e.token] + e.add;
    if (e.rep != 1.0f) y = y > 0.0f ? y / e.rep : y * e.rep;
    v[e.token] = sanitized(y - e.sub);
  }
  return v;
}

// Token ids by value descending, then id ascending.
std::vector<int32_t> ranking(const std::vector<float>& v) {
  std::vector<int32_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return v[a] > v[b]; });
  return order;
}

int32_t first_max(const std::vector<float>& v) {
  return argmax(v.data(), static_cast<int64_t>(v.size()));
}

int32_t draw(const std::vector<float>& v, const RowSampling& r) {
  const float mx = *std::max_element(v.begin(), v.end());
  const float inv_t = 1.0f / r.temperature;
  if (!std::isfinite(mx) || !std::isfinite(inv_t)) return first_max(v);
  const auto vocab = static_cast<int64_t>(v.size());
  std::vector<float> p(vocab);
  for (int64_t i = 0; i < vocab; ++i) p[i] = std::exp((v[i] - mx) * inv_t);
  const std::vector<int32_t> order = ranking(v);
  int64_t n = r.top_k > 0 ? std::min<int64_t>(r.top_k, vocab) : vocab;
  if (r.top_p < 1.0f) {  // the shortest ranking prefix holding top_p of the top-k mass
    double total = 0.0;
    for (int64_t j = 0; j < n; ++j) total += p[order[j]];
    const double target = static_cast<double>(r.top_p) * total;
    double cum = 0.0;
    for (int64_t j = 0; j < n; ++j) {
      cum += p[order[j]];
      if (cum >= target) {
        n = j + 1;
        break;
      }
    }
  }
  const float log_min_p = r.min_p > 0.0f ? std::log(r.min_p) : -INFINITY;
  std::vector<int32_t> kept;
  for (int64_t j = 0; j < n; ++j) {
    const int32_t t = order[j];
    if (p[t] > 0.0f && (v[t] - mx) * inv_t >= log_min_p) kept.push_back(t);
  }
  std::sort(kept.begin(), kept.end());  // the draw walks token ids in order
  double total = 0.0;
  for (int32_t t : kept) total += p[t];
  const double target = r.u * total;
  double cum = 0.0;
  for (int32_t t : kept) {
    cum += p[t];
    if (target < cum) return t;
  }
  return kept.empty() ? first_max(v) : kept.back();
}

}  // namespace

void sample_rows(const float* x, int64_t vocab, std::span<const RowSampling> rows,
                 RowSampled* out) {
  for (size_t k = 0; k < rows.size(); ++k) {
    const RowSampling& r = rows[k];
    const float* raw = x + static_cast<int64_t>(r.row) * vocab;
    RowSampled& o = out[k];
    o = RowSampled{};
    const std::vector<float> v = edited_row(raw, vocab, r);
    o.token = r.temperature > 0.0f ? draw(v, r) : first_max(v);
    if (r.num_logprobs < 0) continue;
    std::vector<float> s(raw, raw + vocab);
    for (float& e : s) e = sanitized(e);
    const float m = *std::max_element(s.begin(), s.end());
    double z = 0.0;
    for (float e : s) z += std::exp(static_cast<double>(e) - m);
    const double log_z = std::isfinite(m) ? m + std::log(z) : m;
    o.logprob = static_cast<float>(s[o.token] - log_z);
    const std::vector<int32_t> order = ranking(s);
    o.num_top = static_cast<int32_t>(
        std::min<int64_t>({r.num_logprobs, vocab, static_cast<int64_t>(kMaxTopLogprobs)}));
    for (int32_t j = 0; j < o.num_top; ++j) {
      o.top_token[j] = order[j];
      o.top_logprob[j] = static_cast<float>(s[order[j]] - log_z);
    }
  }
}

}  // namespace sluice::ref
