#pragma once
// CPU kernels of the recurrent ops (backend.h; recurrent.cc, Highway): slices of the problem,
// threaded by cpu_backend.cc. Every value depends only on its own sequence, head and column (or
// channel), in a fixed order, so results never depend on the batch or on how it was split.
#include <cstdint>

#include "backend/backend.h"

namespace sluice::cpu {

// Channels [c0, c1) of one sequence's rows [b, e): the causal conv + SiLU, st its slot's
// [kernel - 1, channels] state (read unless fresh, then written). c1 - c0 <= kConvTile,
// kernel <= kMaxConvKernel.
constexpr int64_t kConvTile = 256;
constexpr int64_t kMaxConvKernel = 8;
void conv1d_silu_channels(const float* x, int64_t channels, const float* weight, int64_t kernel,
                          float* st, bool fresh, int64_t b, int64_t e, int64_t c0, int64_t c1,
                          float* out);

// The delta rule's per-token inputs for rows [t0, t1): qk [n, 2, Hk, dk] the L2-normalized q
// (times 1/sqrt(dk)) and k heads; gates [n, Hv, 2] each head's (exp(g), beta).
void delta_rule_inputs(const float* qkv, const float* a, const float* b, const float* a_neg,
                       const float* dt_bias, const DeltaNetShape& shape, int64_t t0, int64_t t1,
                       float* qk, float* gates);
// Columns [j0, j1) of value head h's state S [dk, dv] over one sequence's rows [b, e), in order
// (S zeroed first when fresh); out [n, Hv, dv] gets those columns of the rows.
void delta_rule_columns(const float* qk, const float* gates, const float* qkv,
                        const DeltaNetShape& shape, int64_t h, int64_t b, int64_t e, int64_t j0,
                        int64_t j1, bool fresh, float* S, float* out);

// Rows [r0, r1) of x [n, dim] *= sigmoid(gate [n, gate_dim]), gate_dim == dim or 1.
void sigmoid_mul_rows(float* x, const float* gate, int64_t r0, int64_t r1, int64_t dim,
                      int64_t gate_dim);

}  // namespace sluice::cpu
