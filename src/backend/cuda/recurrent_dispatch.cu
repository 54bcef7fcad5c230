// The recurrent ops of the CUDA backend (gated delta-net layers): each goes straight to its
// launcher (kernels_recurrent.cu).
#include "backend/cuda/cuda_backend_class.h"

namespace sluice::cuda {

void CudaBackend::causal_conv1d_silu(const float* x, int64_t channels, const float* weight,
                                     int64_t kernel, float* state, const RecurrentBatch& batch,
                                     float* out) {
  auto t = timer_->scope("causal_conv1d_silu", batch.num_tokens);
  cuda::causal_conv1d_silu(x, channels, weight, kernel, state, batch, out, stream_);
}

void CudaBackend::gated_delta_rule(const float* qkv, const float* a, const float* b,
                                   const float* a_neg, const float* dt_bias,
                                   const DeltaNetShape& shape, float* state,
                                   const RecurrentBatch& batch, float* out) {
  auto t = timer_->scope("gated_delta_rule", batch.num_tokens);
  cuda::gated_delta_rule(qkv, a, b, a_neg, dt_bias, shape, state, batch, out, stream_);
}

void CudaBackend::sigmoid_mul(float* x, const float* gate, int64_t n, int64_t dim,
                              int64_t gate_dim) {
  auto t = timer_->scope("sigmoid_mul", n);
  cuda::sigmoid_mul(x, gate, n, dim, gate_dim, stream_);
}

}  // namespace sluice::cuda
