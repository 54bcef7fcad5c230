#pragma once
// The residual stream x [n, hidden] between blocks, and where its norms happen. On a backend that
// folds norms into products (Backend::folds_norms) each product reads x through its norm and each
// residual add is folded into the product before it; otherwise h holds norm(x) between ops:
//   x --norm--> h --products--> ... --product--> h ; x += h ; h = next_norm(x)
#include <cstdint>

#include "backend/backend.h"

namespace sluice::blocks {

class Residual {
 public:
  // x, h: [n, hidden]; fold: Backend::folds_norms for this step's products.
  Residual(Backend& be, float* x, float* h, int64_t n, int64_t hidden, float eps, bool fold)
      : be_(be), x_(x), h_(h), n_(n), hidden_(hidden), eps_(eps), fold_(fold) {}

  // Before the first block: h = norm(x) (nothing where products fold the norm).
  void normalize(const float* norm);
  // ps[i].y = norm(x) . W_i^T, norm: the one normalize() or the last add applied.
  void normed_products(const float* norm, const Backend::Product* ps, int count);
  // x += in[n, w.cols] . w^T (+ bias [w.rows], or none); then h = next_norm(x) (null: x only,
  // after the last block).
  void add_product(const float* in, const Weight& w, const float* next_norm,
                   const float* bias = nullptr);
  // x += (silu(gate) * up) . w_down^T, gate and up [n, inter] (gate is overwritten).
  void add_gated_product(float* gate, const float* up, int64_t inter, const Weight& w_down,
                         const float* next_norm);

  // Routes (Backend::moe_route into route.ids, route.weights), then the chosen experts' products
  // of norm(x) (Backend::matmul_experts_many over ps).
  void routed_experts(const Backend::Routing& route, const float* norm,
                      const Backend::ExpertProduct* ps, int count, int64_t num_experts, int64_t k,
                      float* scratch);
  // h = norm(x), for blocks that need the normed input itself (not only products of it).
  const float* normed(const float* norm);
  // x += y[n, hidden]; then h = next_norm(x) where a later block reads h (null: x only).
  void add(const float* y, const float* next_norm);
  // add() of rms_norm(y, y_norm) (a post-norm: Gemma's sandwich); y is overwritten.
  void add_normed(float* y, const float* y_norm, const float* next_norm);
  // add() of the experts' outputs y [n * k, hidden] combined by weights [n, k]; where adds fold
  // (no next norm to write) the combine adds into x itself, else through scratch [n, hidden].
  void add_combined(const float* y, const float* weights, int64_t k, float* scratch,
                    const float* next_norm);

  // x[row, row + count) += y[count, hidden]; h is stale until normalize().
  void add_rows(int64_t row, const float* y, int64_t count) {
    be_.add(x_ + row * hidden_, y, count * hidden_);
  }

  float* x() const { return x_; }
  int64_t n() const { return n_; }

 private:
  void add_then_norm(const float* next_norm);

  Backend& be_;
  float *x_, *h_;
  int64_t n_, hidden_;
  float eps_;
  bool fold_;
};

}  // namespace sluice::blocks
