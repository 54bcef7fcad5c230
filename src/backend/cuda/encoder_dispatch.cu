// The encoder ops of the CUDA backend: each goes straight to its launcher (kernels_encoder.cu).
#include "backend/cuda/cuda_backend_class.h"
#include "common/assert.h"

namespace sluice::cuda {

void CudaBackend::layer_norm(const float* x, int64_t n, int64_t dim, const float* weight,
                             const float* bias, float eps, float* y) {
  auto t = timer_->scope("layer_norm", n);
  cuda::layer_norm(x, n, dim, weight, bias, eps, y, stream_);
}

void CudaBackend::gelu_erf(const float* x, int64_t count, float* out) {
  auto t = timer_->scope("gelu_erf", 1);
  cuda::gelu_erf(x, count, out, stream_);
}

void CudaBackend::bidirectional_attention(const float* q, const float* k, const float* v,
                                          int64_t num_heads, int64_t head_dim,
                                          const SequenceBatch& batch, float scale, float* out) {
  SLUICE_ASSERT(
      cuda::bidirectional_attention_tiled(head_dim) || batch.max_len <= kMaxBidirectionalLen,
      "sequence too long for the encoder kernel");
  auto t = timer_->scope("bidirectional_attention", batch.num_tokens);
  cuda::bidirectional_attention(q, k, v, num_heads, head_dim, batch, scale, out, stream_);
}

void CudaBackend::pool_rows(const float* x, int64_t dim, const SequenceBatch& batch, Pooling mode,
                            float* out) {
  auto t = timer_->scope("pool_rows", batch.num_seqs);
  cuda::pool_rows(x, dim, batch, mode, out, stream_);
}

void CudaBackend::l2_normalize(float* x, int64_t n, int64_t dim) {
  auto t = timer_->scope("l2_normalize", n);
  cuda::l2_normalize(x, n, dim, stream_);
}

}  // namespace sluice::cuda
