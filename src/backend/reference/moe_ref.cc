// Mixture-of-experts ops by their definitions (backend.h): routing by a full sort, one plain
// matmul per token slot, double sums.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "backend/reference/ref_ops.h"

namespace sluice::ref {

namespace {
// Orders expert ids by value, largest first; NaN last; ties by lower id.
bool ranks_before(const float* v, int32_t a, int32_t b) {
  const bool na = std::isnan(v[a]), nb = std::isnan(v[b]);
  if (na != nb) return nb;
  if (!na && v[a] != v[b]) return v[a] > v[b];
  return a < b;
}
}  // namespace

void moe_route(const float* logits, int64_t n, int64_t num_experts, int64_t k, MoeRouting mode,
               bool renormalize, int32_t* ids, float* weights) {
  std::vector<double> p(num_experts);
  std::vector<int32_t> order(num_experts);
  for (int64_t t = 0; t < n; ++t) {
    const float* l = logits + t * num_experts;
    if (mode == MoeRouting::kSoftmaxTopK) {  // softmax keeps the order: rank by logits
      double mx = -INFINITY;
      for (int64_t e = 0; e < num_experts; ++e)
        if (!std::isnan(l[e])) mx = std::max(mx, static_cast<double>(l[e]));
      for (int64_t e = 0; e < num_experts; ++e)
        p[e] = std::isnan(l[e]) ? 0.0 : std::exp(static_cast<double>(l[e]) - mx);
    }
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int32_t a, int32_t b) { return ranks_before(l, a, b); });
    const double total = std::accumulate(p.begin(), p.end(), 0.0);
    double sel_sum = 0, mx = -INFINITY;
    for (int64_t j = 0; j < k; ++j) mx = std::max(mx, static_cast<double>(l[order[j]]));
    std::vector<double> w(k);
    for (int64_t j = 0; j < k; ++j) {
      w[j] = mode == MoeRouting::kSoftmaxTopK ? p[order[j]] / total
                                              : std::exp(static_cast<double>(l[order[j]]) - mx);
      sel_sum += w[j];
    }
    const bool divide = mode == MoeRouting::kTopKSoftmax || renormalize;
    for (int64_t j = 0; j < k; ++j) {
      ids[t * k + j] = order[j];
      weights[t * k + j] = static_cast<float>(divide && sel_sum > 0 ? w[j] / sel_sum : w[j]);
    }
  }
}

void matmul_experts(const float* x, bool x_per_slot, int64_t n, const Weight* experts,
                    int64_t num_experts, const int32_t* ids, int64_t k, float* y) {
  const int64_t rows = experts[0].rows, cols = experts[0].cols;
  for (int64_t s = 0; s < n * k; ++s) {
    const int32_t e = ids[s];
    SLUICE_ASSERT(e >= 0 && e < num_experts, "expert id out of range");
    matmul(x + (x_per_slot ? s : s / k) * cols, 1, experts[e], y + s * rows);
  }
}

void moe_combine(const float* y, const float* weights, int64_t n, int64_t k, int64_t dim,
                 float* out, bool accumulate) {
  for (int64_t t = 0; t < n; ++t)
    for (int64_t d = 0; d < dim; ++d) {
      double acc = 0;
      for (int64_t j = 0; j < k; ++j)
        acc += static_cast<double>(weights[t * k + j]) * y[(t * k + j) * dim + d];
      const float sum = static_cast<float>(acc);
      out[t * dim + d] = accumulate ? out[t * dim + d] + sum : sum;
    }
}

}  // namespace sluice::ref
