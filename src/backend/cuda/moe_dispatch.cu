// The mixture-of-experts ops on the device (kernels/kernels_moe.cu): experts placed in one
// allocation so a kernel finds expert e's weight from its id; float experts, or experts placed
// one by one, take the host-routed defaults (backend/moe_ops.cc).
#include <algorithm>
#include <vector>

#include "backend/cuda/cuda_backend_class.h"
#include "backend/cuda/cuda_check.h"

namespace sluice::cuda {

namespace {
constexpr size_t kExpertAlign = 256;  // each expert's planar weight starts on this boundary
// From this many slots per expert on average (prefill), each expert's rows are multiplied as one
// matrix on the tensor-core GEMMs, grouped on the host (one sync per call); below, the
// weight-streaming expert kernel reads the ids on the device. H100, 512-token prefill: at 64 per
// expert (gpt-oss-20b) the GEMMs took it from 1,887 to 5,142 tok/s; at 32 (Qwen3-30B-A3B) they
// were 8% slower than the kernel.
constexpr int64_t kGemmSlotsPerExpert = 48;

// experts[count] as one strided allocation, or nothing (count == 0) when placed otherwise.
ExpertWeights strided(const Weight* experts, int64_t count) {
  const Weight& w0 = experts[0];
  ExpertWeights w{w0.data, 0, count, w0.dtype, w0.rows, w0.cols};
  if (count > 1) w.stride = experts[1].data - w0.data;
  for (int64_t e = 1; e < count; ++e)
    if (experts[e].data != w0.data + e * w.stride || experts[e].device != w0.device ||
        experts[e].dtype != w0.dtype || experts[e].rows != w0.rows || experts[e].cols != w0.cols)
      return ExpertWeights{};
  return w;
}
}  // namespace

std::vector<Weight> CudaBackend::place_experts(const Weight& stacked, int64_t num_experts) {
  if (!experts_supported(stacked.dtype)) return Backend::place_experts(stacked, num_experts);
  SLUICE_ASSERT(num_experts > 0 && stacked.rows % num_experts == 0,
                "stacked experts split evenly by rows");
  const int64_t rows = stacked.rows / num_experts;
  const size_t bytes = stacked.rows_view(0, rows).nbytes();
  const size_t stride = (bytes + kExpertAlign - 1) / kExpertAlign * kExpertAlign;
  void* base = nullptr;
  SLUICE_CUDA_CHECK(cudaMalloc(&base, stride * num_experts));
  std::shared_ptr<const void> hold(base, [](const void* q) { cudaFree(const_cast<void*>(q)); });
  void* staging = nullptr;  // one expert in the block layout, converted to planar in place
  SLUICE_CUDA_CHECK(cudaMalloc(&staging, bytes));
  std::vector<Weight> out;
  for (int64_t e = 0; e < num_experts; ++e) {
    const Weight host = stacked.rows_view(e * rows, rows);
    uint8_t* dst = static_cast<uint8_t*>(base) + e * stride;
    SLUICE_CUDA_CHECK(cudaMemcpyAsync(staging, host.data, bytes, cudaMemcpyHostToDevice, stream_));
    to_planar(Weight::from_mapped(host.dtype, rows, host.cols, static_cast<uint8_t*>(staging)), dst,
              stream_);
    SLUICE_CUDA_CHECK(cudaStreamSynchronize(stream_));  // staging is reused
    Weight d = Weight::from_mapped(host.dtype, rows, host.cols, dst);
    d.device = hold;
    out.push_back(d);
  }
  SLUICE_CUDA_CHECK(cudaFree(staging));
  return out;
}

bool CudaBackend::experts_on_device(const Weight& expert) const {
  return experts_supported(expert.dtype) && expert.device != nullptr;
}

void CudaBackend::moe_route(const float* logits, int64_t n, int64_t num_experts, int64_t k,
                            MoeRouting mode, bool renormalize, int32_t* ids, float* weights) {
  auto t = timer_->scope("moe_route", n, "f32");
  cuda::moe_route(logits, n, num_experts, k, mode, renormalize, ids, weights, stream_);
}

// Experts this backend's kernels take (placed by place_experts, a supported format), or none.
ExpertWeights CudaBackend::device_experts(const Weight* experts, int64_t num_experts) const {
  if (!experts_supported(experts[0].dtype) || num_experts > kMaxGroupedExperts) return {};
  return strided(experts, num_experts);
}

void CudaBackend::run_experts(const float* x, bool x_per_slot, const RowsMode& mode, int64_t n,
                              const ExpertOutput* ps, int count, const int32_t* ids, int64_t k) {
  auto t = timer_->scope(count > 1 ? "matmul_experts many"
                         : mode.up ? "matmul_experts glu"
                                   : "matmul_experts",
                         n, dtype_name(ps[0].w.dtype));
  uint8_t* scratch = experts_scratch_.grow(experts_scratch_bytes(n, k, x_per_slot, ps[0].w));
  cuda::matmul_experts(x, x_per_slot, mode, n, ps, count, ids, k, scratch, stream_);
}

bool CudaBackend::experts_by_gemm(int64_t n, int64_t k, int64_t num_experts) const {
  if (invariant_ || n * k < kGemmSlotsPerExpert * num_experts) return false;
  cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;  // a recording cannot sync
  SLUICE_CUDA_CHECK(cudaStreamIsCapturing(stream_, &capturing));
  return capturing == cudaStreamCaptureStatusNone;
}

void CudaBackend::gemm_experts(const float* x, bool x_per_slot, int64_t n, const ExpertProduct* ps,
                               int count, int64_t num_experts, const int32_t* ids, int64_t k) {
  const int64_t slots = n * k, cols = ps[0].experts[0].cols;
  std::vector<int32_t> hid(slots);
  to_host(hid.data(), ids, sizeof(int32_t) * slots);
  // Counting sort of the slots by expert: index[i] = the x row of grouped row i, and
  // index[slots + s] = the grouped row of slot s.
  std::vector<int32_t> start(num_experts + 1, 0), index(2 * slots);
  for (int32_t e : hid) {
    SLUICE_ASSERT(e >= 0 && e < num_experts, "expert id out of range");
    ++start[e + 1];
  }
  for (int64_t e = 0; e < num_experts; ++e) start[e + 1] += start[e];
  std::vector<int32_t> next(start.begin(), start.end() - 1);
  for (int64_t s = 0; s < slots; ++s) {
    const int32_t i = next[hid[s]]++;
    index[i] = static_cast<int32_t>(x_per_slot ? s : s / k);
    index[slots + s] = i;
  }
  int32_t* di = moe_index_.grow(2 * slots);
  to_device(di, index.data(), sizeof(int32_t) * index.size());
  float* xg = moe_x_.grow(slots * cols);  // [slots, cols] grouped by expert
  gather_rows(x, di, slots, cols, xg);
  for (int i = 0; i < count; ++i) {
    const int64_t rows = ps[i].experts[0].rows;
    float* yg = moe_y_.grow(slots * rows);
    for (int64_t e = 0; e < num_experts; ++e)
      if (start[e + 1] > start[e])
        matmul(xg + start[e] * cols, start[e + 1] - start[e], ps[i].experts[e],
               yg + start[e] * rows);
    gather_rows(yg, di + slots, slots, rows, ps[i].y);  // back to slot order
    if (ps[i].bias) {
      gather_rows(ps[i].bias, ids, slots, rows, yg);
      add(ps[i].y, yg, slots * rows);
    }
  }
}

void CudaBackend::matmul_experts(const float* x, bool x_per_slot, int64_t n, const Weight* experts,
                                 int64_t num_experts, const int32_t* ids, int64_t k, float* y) {
  const ExpertOutput out{device_experts(experts, num_experts), nullptr, y};
  if (out.w.count == 0)
    return Backend::matmul_experts(x, x_per_slot, n, experts, num_experts, ids, k, y);
  run_experts(x, x_per_slot, RowsMode{}, n, &out, 1, ids, k);
}

void CudaBackend::matmul_experts_many(const float* x, int64_t n, const ExpertProduct* ps, int count,
                                      int64_t num_experts, const int32_t* ids, int64_t k,
                                      float* scratch) {
  ExpertOutput outs[kMaxExpertProducts];
  bool device = count >= 1 && count <= kMaxExpertProducts;
  for (int i = 0; device && i < count; ++i) {
    outs[i] = ExpertOutput{device_experts(ps[i].experts, num_experts), ps[i].bias, ps[i].y};
    device = outs[i].w.count > 0 && outs[i].w.dtype == outs[0].w.dtype &&
             outs[i].w.rows == outs[0].w.rows && outs[i].w.cols == outs[0].w.cols;
  }
  if (!device) return Backend::matmul_experts_many(x, n, ps, count, num_experts, ids, k, scratch);
  if (experts_by_gemm(n, k, num_experts)) {
    auto t = timer_->scope("matmul_experts many gemm", n, dtype_name(outs[0].w.dtype));
    return gemm_experts(x, false, n, ps, count, num_experts, ids, k);
  }
  run_experts(x, false, RowsMode{}, n, outs, count, ids, k);
}

void CudaBackend::matmul_experts_glu(float* gate, const float* up, const Glu& glu, int64_t n,
                                     const ExpertProduct& p, int64_t num_experts,
                                     const int32_t* ids, int64_t k, float* scratch) {
  const ExpertOutput out{device_experts(p.experts, num_experts), p.bias, p.y};
  if (out.w.count == 0)
    return Backend::matmul_experts_glu(gate, up, glu, n, p, num_experts, ids, k, scratch);
  if (experts_by_gemm(n, k, num_experts)) {
    const int64_t count = n * k * p.experts[0].cols;
    if (glu.limit > 0.0f)
      swiglu_clamped(gate, up, count, glu.alpha, glu.limit, gate);
    else
      silu_mul(gate, up, count, gate);
    auto t = timer_->scope("matmul_experts glu gemm", n, dtype_name(out.w.dtype));
    return gemm_experts(gate, true, n, &p, 1, num_experts, ids, k);
  }
  RowsMode mode;
  mode.up = up, mode.glu = glu;
  run_experts(gate, true, mode, n, &out, 1, ids, k);
}

void CudaBackend::moe_combine(const float* y, const float* weights, int64_t n, int64_t k,
                              int64_t dim, float* out) {
  auto t = timer_->scope("moe_combine", n, "f32");
  cuda::moe_combine(y, weights, n, k, dim, out, stream_);
}

}  // namespace sluice::cuda
