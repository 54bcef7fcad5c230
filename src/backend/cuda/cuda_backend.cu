// The CUDA backend's shell: construction, memory, recording (CUDA graphs) and the ops that go
// straight to one kernel launcher (kernels/kernels.h).
#include <cuda_runtime.h>

#include <cstring>
#include <memory>
#include <string>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_backend_class.h"
#include "backend/cuda/cuda_check.h"
#include "common/assert.h"

namespace sluice::cuda {

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();  // no driver / no device: clear the sticky error
    return 0;
  }
  return n;
}

std::unique_ptr<Backend> make_cuda_backend(int device) {
  return std::make_unique<CudaBackend>(device);
}

OptionalDTypes optional_dtypes() {
  return OptionalDTypes{.q6g16 = CudaTuning::from_env().six_bit};
}

namespace {

class CudaGraph final : public Recording {
 public:
  CudaGraph(cudaGraphExec_t exec, cudaStream_t stream) : exec_(exec), stream_(stream) {}
  ~CudaGraph() override { cudaGraphExecDestroy(exec_); }
  void replay() override { SLUICE_CUDA_CHECK(cudaGraphLaunch(exec_, stream_)); }

 private:
  cudaGraphExec_t exec_;
  cudaStream_t stream_;
};

// Makes `device` current; "cuda:" and its name.
std::string select_device(int device) {
  SLUICE_CUDA_CHECK(cudaSetDevice(device));
  cudaDeviceProp prop{};
  SLUICE_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  return std::string("cuda:") + prop.name;
}

cudaStream_t new_stream() {
  cudaStream_t s = nullptr;
  SLUICE_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  return s;
}

cublasHandle_t new_cublas(cudaStream_t stream) {
  cublasHandle_t h = nullptr;
  SLUICE_CUBLAS_CHECK(cublasCreate(&h));
  SLUICE_CUBLAS_CHECK(cublasSetStream(h, stream));
  return h;
}

}  // namespace

CudaBackend::CudaBackend(int device)
    : device_(device),
      name_(select_device(device)),
      stream_(new_stream()),
      cublas_(new_cublas(stream_)),
      tuning_(CudaTuning::from_env()),
      qgemm_{tuning_.qgemm_wgmma && qgemm_wgmma_available(), tuning_.qgemm_cluster,
             tuning_.qgemm_wave_plan, tuning_.expert_prefetch},
      timer_(std::make_unique<OpTimer>(stream_)) {}

CudaBackend::~CudaBackend() {
  cudaStreamSynchronize(stream_);
  if (upload_read_) cudaEventDestroy(upload_read_);
  timer_.reset();
  cublasDestroy(cublas_);
  cudaStreamDestroy(stream_);
  // The scratch buffers free themselves after this (cudaFree and cudaFreeHost need no stream).
}

// ---- memory ----

void* CudaBackend::alloc(size_t bytes) {
  void* p = nullptr;
  SLUICE_CUDA_CHECK(cudaMalloc(&p, bytes > 0 ? bytes : 1));
  SLUICE_CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, stream_));
  return p;
}

void CudaBackend::release(void* p) {
  if (!p) return;
  SLUICE_CUDA_CHECK(cudaStreamSynchronize(stream_));
  SLUICE_CUDA_CHECK(cudaFree(p));
}

void CudaBackend::to_device(void* dst, const void* src, size_t bytes) {
  if (bytes > 0)
    SLUICE_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream_));
}

// Small sets go through page-locked staging and one scatter kernel: a decode step's six arrays
// as six pageable copies cost the host ~10 us each while the GPU waited.
void CudaBackend::to_device_many(std::span<const HostUpload> uploads) {
  constexpr size_t kMaxStagedBytes = 64 << 10;
  auto padded = [](size_t b) { return (b + 15) / 16 * 16; };
  size_t total = 0;
  bool words = true;
  for (const HostUpload& u : uploads) total += padded(u.bytes), words = words && u.bytes % 4 == 0;
  if (!tuning_.upload_scatter || !words || uploads.size() > size_t{cuda::kMaxHostScatter} ||
      total > kMaxStagedBytes) {
    Backend::to_device_many(uploads);
    return;
  }
  if (upload_read_) {
    SLUICE_CUDA_CHECK(cudaEventSynchronize(upload_read_));  // the last scatter has read it
  } else {
    SLUICE_CUDA_CHECK(cudaEventCreateWithFlags(&upload_read_, cudaEventDisableTiming));
  }
  uint8_t* host = upload_host_.grow(total);
  cuda::HostScatter list;
  size_t at = 0;
  for (const HostUpload& u : uploads) {
    if (u.bytes == 0) continue;
    std::memcpy(host + at, u.src, u.bytes);
    list.dst[list.count] = static_cast<uint32_t*>(u.dst);
    list.src[list.count] = reinterpret_cast<const uint32_t*>(host + at);
    list.words[list.count++] = static_cast<int64_t>(u.bytes / 4);
    at += padded(u.bytes);
  }
  auto t = timer_->scope("scatter_from_host", list.count);
  cuda::scatter_from_host(list, stream_);
  SLUICE_CUDA_CHECK(cudaEventRecord(upload_read_, stream_));
}

// Small results (a step's greedy picks) come down through page-locked staging: a copy to
// pageable memory waits for the stream inside the call, then takes the driver's staged path.
void CudaBackend::to_host(void* dst, const void* src, size_t bytes) {
  constexpr size_t kMaxStagedBytes = 4 << 20;
  const bool staged = tuning_.download_staged && bytes > 0 && bytes <= kMaxStagedBytes;
  uint8_t* staging = staged ? download_host_.grow(bytes) : nullptr;
  if (bytes > 0) {
    auto t = timer_->scope("to_host", 1);
    SLUICE_CUDA_CHECK(
        cudaMemcpyAsync(staged ? staging : dst, src, bytes, cudaMemcpyDeviceToHost, stream_));
  }
  SLUICE_CUDA_CHECK(cudaStreamSynchronize(stream_));
  if (staged) std::memcpy(dst, staging, bytes);
  timer_->collect();
}

void CudaBackend::copy(void* dst, const void* src, size_t bytes) {
  if (bytes > 0)
    SLUICE_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream_));
}

void* CudaBackend::alloc_host(size_t bytes) {
  void* p = nullptr;
  SLUICE_CUDA_CHECK(cudaMallocHost(&p, bytes > 0 ? bytes : 1));
  return p;
}

void CudaBackend::release_host(void* p) {
  if (p) SLUICE_CUDA_CHECK(cudaFreeHost(p));
}

Weight CudaBackend::place(const Weight& w) {
  if (!w.data) return w;
  const size_t bytes = w.nbytes();
  void* p = nullptr;
  SLUICE_CUDA_CHECK(cudaMalloc(&p, bytes));
  // On our stream: a plain cudaMemcpy from pageable memory may return before its DMA lands,
  // and this (non-blocking) stream does not wait for it.
  SLUICE_CUDA_CHECK(cudaMemcpyAsync(p, w.data, bytes, cudaMemcpyHostToDevice, stream_));
  if (is_quantized(w.dtype)) {  // the kernels read the planar layout (kernels/dequant.cuh)
    void* planar = nullptr;
    SLUICE_CUDA_CHECK(cudaMalloc(&planar, bytes));
    Weight blocks = Weight::from_mapped(w.dtype, w.rows, w.cols, static_cast<uint8_t*>(p));
    to_planar(blocks, static_cast<uint8_t*>(planar), stream_);
    SLUICE_CUDA_CHECK(cudaStreamSynchronize(stream_));
    SLUICE_CUDA_CHECK(cudaFree(p));
    p = planar;
  }
  SLUICE_CUDA_CHECK(cudaStreamSynchronize(stream_));
  Weight d = Weight::from_mapped(w.dtype, w.rows, w.cols, static_cast<const uint8_t*>(p));
  d.device = std::shared_ptr<const void>(p, [](const void* q) { cudaFree(const_cast<void*>(q)); });
  return d;
}

size_t CudaBackend::free_memory() const {
  size_t free = 0, total = 0;
  SLUICE_CUDA_CHECK(cudaMemGetInfo(&free, &total));
  return free;
}

size_t CudaBackend::total_memory() const {
  size_t free = 0, total = 0;
  SLUICE_CUDA_CHECK(cudaMemGetInfo(&free, &total));
  return total;
}

// ---- recording ----

bool CudaBackend::can_record() const {
  return tuning_.graphs && !profile::enabled();
}

void CudaBackend::begin_recording() {
  SLUICE_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
}

std::unique_ptr<Recording> CudaBackend::end_recording() {
  cudaGraph_t graph = nullptr;
  if (cudaStreamEndCapture(stream_, &graph) != cudaSuccess || graph == nullptr) {
    (void)cudaGetLastError();
    return nullptr;
  }
  cudaGraphExec_t exec = nullptr;
  const cudaError_t made = cudaGraphInstantiate(&exec, graph, 0);
  cudaGraphDestroy(graph);
  if (made != cudaSuccess) {
    (void)cudaGetLastError();
    return nullptr;
  }
  return std::make_unique<CudaGraph>(exec, stream_);
}

// ---- element-wise ops, norms, gathers, the KV cache ----

void CudaBackend::embedding(const Weight& table, const int32_t* ids, int64_t n, float* out) {
  auto t = timer_->scope("embedding", n);
  cuda::embedding(table, ids, n, out, stream_);
}

void CudaBackend::rms_norm(const float* x, int64_t n, int64_t dim, const float* weight, float eps,
                           float* y) {
  auto t = timer_->scope("rms_norm", n);
  cuda::rms_norm(x, n, dim, weight, eps, y, stream_);
}

void CudaBackend::rope(float* x, int64_t n, int64_t num_heads, int64_t head_dim,
                       const int32_t* positions, const RopeParams& p) {
  auto t = timer_->scope("rope", n);
  cuda::rope(x, n, num_heads, head_dim, positions, p, stream_);
}

void CudaBackend::swiglu_clamped(const float* gate, const float* up, int64_t count, float alpha,
                                 float limit, float* out) {
  auto t = timer_->scope("swiglu_clamped", 1);
  cuda::swiglu_clamped(gate, up, count, alpha, limit, out, stream_);
}

void CudaBackend::gelu_mul(const float* gate, const float* up, int64_t count, float* out) {
  auto t = timer_->scope("gelu_mul", 1);
  cuda::gelu_mul(gate, up, count, out, stream_);
}

void CudaBackend::scale(float* x, int64_t count, float s) {
  auto t = timer_->scope("scale", 1);
  cuda::scale(x, count, s, stream_);
}

void CudaBackend::silu_mul(const float* gate, const float* up, int64_t count, float* out) {
  auto t = timer_->scope("silu_mul", 1);
  cuda::silu_mul(gate, up, count, out, stream_);
}

void CudaBackend::add(float* x, const float* y, int64_t count) {
  auto t = timer_->scope("add", 1);
  cuda::add(x, y, count, stream_);
}

void CudaBackend::add_rms_norm(float* x, const float* r, int64_t n, int64_t dim,
                               const float* weight, float eps, float* y) {
  auto t = timer_->scope("add_rms_norm", n);
  cuda::add_rms_norm(x, r, n, dim, weight, eps, y, stream_);
}

void CudaBackend::add_normed_rms_norm(float* x, float* r, const float* r_weight, int64_t n,
                                      int64_t dim, const float* weight, float eps, float* y) {
  auto t = timer_->scope("add_normed_rms_norm", n);
  cuda::add_normed_rms_norm(x, r, r_weight, n, dim, weight, eps, y, stream_);
}

void CudaBackend::prepare_qkv(const QkvInputs& in, const KvLayerView& cache) {
  if (!prepare_qkv_supported(in.head_dim)) return Backend::prepare_qkv(in, cache);
  auto t = timer_->scope("prepare_qkv", in.n);
  cuda::prepare_qkv(in, cache, stream_);
}

void CudaBackend::add_bias(float* x, int64_t n, int64_t dim, const float* bias) {
  auto t = timer_->scope("add_bias", n);
  cuda::add_bias(x, n, dim, bias, stream_);
}

void CudaBackend::gather_rows(const float* x, const int32_t* rows, int64_t m, int64_t dim,
                              float* out) {
  auto t = timer_->scope("gather_rows", m);
  cuda::gather_rows(x, rows, m, dim, out, stream_);
}

void CudaBackend::argmax_rows(const float* x, int64_t rows, int64_t cols, int32_t* out) {
  auto t = timer_->scope("argmax_rows", rows);
  const int64_t slices = cuda::argmax_slices(cols);
  cuda::ArgmaxPartial* partials = slices > 1 ? argmax_partials_.grow(rows * slices) : nullptr;
  cuda::argmax_rows(x, rows, cols, out, partials, stream_);
}

void CudaBackend::cache_write(const float* k, const float* v, int64_t n,
                              const int32_t* slot_mapping, const KvLayerView& cache) {
  auto t = timer_->scope("cache_write", n);
  cuda::cache_write(k, v, n, slot_mapping, cache, stream_);
}

}  // namespace sluice::cuda
