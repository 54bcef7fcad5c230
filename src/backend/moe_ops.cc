// Backend's mixture-of-experts defaults, over the basic ops: routing by the reference's rules
// (every backend picks the same experts), then tokens grouped by expert so each expert runs one
// matmul over its rows:
//   slots s = t*k+j sorted by ids[s] -> gather x rows -> matmul per expert -> gather back to s
// On device backends ids and the routing cross to the host (one sync per call): a backend with
// kernels of its own overrides these.
#include <algorithm>
#include <vector>

#include "backend/backend.h"
#include "backend/expert_groups.h"
#include "backend/reference/ref_ops.h"

namespace sluice {

ExpertGroups group_by_expert(const int32_t* ids, int64_t slots, int64_t num_experts) {
  ExpertGroups g;
  g.start.assign(num_experts + 1, 0);
  for (int64_t s = 0; s < slots; ++s) {
    SLUICE_ASSERT(ids[s] >= 0 && ids[s] < num_experts, "expert id out of range");
    ++g.start[ids[s] + 1];
  }
  for (int64_t e = 0; e < num_experts; ++e) g.start[e + 1] += g.start[e];
  g.order.resize(slots);
  std::vector<int32_t> next(g.start.begin(), g.start.end() - 1);
  for (int64_t s = 0; s < slots; ++s) g.order[next[ids[s]]++] = static_cast<int32_t>(s);
  return g;
}

namespace {

// Host copy of n values at p (backend memory).
template <typename T>
std::vector<T> host_copy(Backend& be, const T* p, int64_t n) {
  std::vector<T> out(n);
  be.to_host(out.data(), p, n * sizeof(T));
  return out;
}

// A scratch buffer in backend memory for one call.
class Scratch {
 public:
  Scratch(Backend& be, size_t bytes) : be_(be), p_(be.alloc(bytes)) {}
  ~Scratch() { be_.release(p_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  template <typename T>
  T* as() const {
    return static_cast<T*>(p_);
  }

 private:
  Backend& be_;
  void* p_;
};

}  // namespace

std::vector<Weight> Backend::place_experts(const Weight& stacked, int64_t num_experts) {
  SLUICE_ASSERT(num_experts > 0 && stacked.rows % num_experts == 0,
                "stacked experts split evenly by rows");
  const int64_t rows = stacked.rows / num_experts;
  std::vector<Weight> out;
  for (int64_t e = 0; e < num_experts; ++e) out.push_back(place(stacked.rows_view(e * rows, rows)));
  return out;
}

void Backend::moe_route(const float* logits, int64_t n, int64_t num_experts, int64_t k,
                        MoeRouting mode, bool renormalize, int32_t* ids, float* weights) {
  if (host_resident())
    return ref::moe_route(logits, n, num_experts, k, mode, renormalize, ids, weights);
  const std::vector<float> l = host_copy(*this, logits, n * num_experts);
  std::vector<int32_t> hid(n * k);
  std::vector<float> hw(n * k);
  ref::moe_route(l.data(), n, num_experts, k, mode, renormalize, hid.data(), hw.data());
  to_device(ids, hid.data(), hid.size() * sizeof(int32_t));
  to_device(weights, hw.data(), hw.size() * sizeof(float));
}

void Backend::matmul_experts(const float* x, bool x_per_slot, int64_t n, const Weight* experts,
                             int64_t num_experts, const int32_t* ids, int64_t k, float* y) {
  const int64_t slots = n * k, rows = experts[0].rows, cols = experts[0].cols;
  const std::vector<int32_t> hid =
      host_resident() ? std::vector<int32_t>(ids, ids + slots) : host_copy(*this, ids, slots);
  const ExpertGroups g = group_by_expert(hid.data(), slots, num_experts);
  // src[i]: the x row of grouped row i; back[s]: the grouped row of slot s.
  std::vector<int32_t> index(2 * slots);
  for (int64_t i = 0; i < slots; ++i) {
    index[i] = x_per_slot ? g.order[i] : g.order[i] / static_cast<int32_t>(k);
    index[slots + g.order[i]] = static_cast<int32_t>(i);
  }
  auto run = [&](float* xg, float* yg, const int32_t* idx) {
    gather_rows(x, idx, slots, cols, xg);  // [slots, cols] grouped by expert
    for (int64_t e = 0; e < num_experts; ++e) {
      const int64_t a = g.start[e], count = g.start[e + 1] - a;
      if (count > 0) matmul(xg + a * cols, count, experts[e], yg + a * rows);
    }
    gather_rows(yg, idx + slots, slots, rows, y);  // back to slot order
  };
  if (host_resident()) {  // reused host scratch (calls on one backend never overlap)
    thread_local std::vector<float> xg, yg;
    xg.resize(slots * cols), yg.resize(slots * rows);
    return run(xg.data(), yg.data(), index.data());
  }
  Scratch xs(*this, sizeof(float) * slots * cols), ys(*this, sizeof(float) * slots * rows),
      is(*this, sizeof(int32_t) * 2 * slots);
  to_device(is.as<int32_t>(), index.data(), index.size() * sizeof(int32_t));
  run(xs.as<float>(), ys.as<float>(), is.as<int32_t>());
}

namespace {
// y[n * k, rows] += bias rows of the slots' experts (none: nothing).
void add_expert_bias(Backend& be, float* y, const float* bias, const int32_t* ids, int64_t slots,
                     int64_t rows, float* scratch) {
  if (!bias) return;
  be.gather_rows(bias, ids, slots, rows, scratch);
  be.add(y, scratch, slots * rows);
}
}  // namespace

void Backend::matmul_experts_many(const float* x, int64_t n, const ExpertProduct* ps, int count,
                                  int64_t num_experts, const int32_t* ids, int64_t k,
                                  float* scratch) {
  for (int i = 0; i < count; ++i) {
    matmul_experts(x, false, n, ps[i].experts, num_experts, ids, k, ps[i].y);
    add_expert_bias(*this, ps[i].y, ps[i].bias, ids, n * k, ps[i].experts[0].rows, scratch);
  }
}

void Backend::matmul_experts_glu(float* gate, const float* up, const Glu& glu, int64_t n,
                                 const ExpertProduct& p, int64_t num_experts, const int32_t* ids,
                                 int64_t k, float* scratch) {
  const int64_t count = n * k * p.experts[0].cols;
  if (glu.limit > 0.0f)
    swiglu_clamped(gate, up, count, glu.alpha, glu.limit, gate);
  else
    silu_mul(gate, up, count, gate);
  matmul_experts(gate, true, n, p.experts, num_experts, ids, k, p.y);
  add_expert_bias(*this, p.y, p.bias, ids, n * k, p.experts[0].rows, scratch);
}

void Backend::moe_combine(const float* y, const float* weights, int64_t n, int64_t k, int64_t dim,
                          float* out, bool accumulate) {
  auto combine = [&](const float* hy, const float* hw, float* ho) {
    thread_local std::vector<float> sum;  // [dim]: a token's sum before it is stored or added
    sum.resize(static_cast<size_t>(dim));
    for (int64_t t = 0; t < n; ++t) {
      std::fill(sum.begin(), sum.end(), 0.0f);
      for (int64_t j = 0; j < k; ++j) {
        const float w = hw[t * k + j];
        const float* r = hy + (t * k + j) * dim;
        for (int64_t d = 0; d < dim; ++d) sum[d] += w * r[d];
      }
      float* o = ho + t * dim;
      for (int64_t d = 0; d < dim; ++d) o[d] = accumulate ? o[d] + sum[d] : sum[d];
    }
  };
  if (host_resident()) return combine(y, weights, out);
  const std::vector<float> hy = host_copy(*this, y, n * k * dim),
                           hw = host_copy(*this, weights, n * k);
  std::vector<float> ho = accumulate ? host_copy(*this, out, n * dim) : std::vector<float>(n * dim);
  combine(hy.data(), hw.data(), ho.data());
  to_device(out, ho.data(), ho.size() * sizeof(float));
}

}  // namespace sluice
