// Backend::sample_rows on the device: the rows' settings, edits and masks go up in one copy,
// the results come down in one, both through a page-locked buffer.
#include <algorithm>
#include <cstring>
#include <vector>

#include "backend/cuda/cuda_backend_class.h"
#include "backend/cuda/cuda_check.h"
#include "common/assert.h"

namespace sluice::cuda {

void CudaBackend::sample_rows(const float* x, int64_t vocab, std::span<const RowSampling> rows,
                              RowSampled* out) {
  if (rows.empty()) return;
  const int64_t words = (vocab + 31) / 32;
  std::vector<DeviceRowSampling> specs;
  std::vector<RowSamplingEdit> edits;
  std::vector<uint32_t> masks;
  for (const RowSampling& r : rows) {
    DeviceRowSampling d{};
    d.row = r.row, d.temperature = r.temperature, d.top_k = r.top_k, d.top_p = r.top_p;
    d.min_p = r.min_p, d.u = r.u;
    d.num_logprobs = std::min(r.num_logprobs, kMaxTopLogprobs);
    d.edit_begin = static_cast<int32_t>(edits.size());
    for (const RowSamplingEdit& e : r.edits) {
      SLUICE_ASSERT(e.token >= 0 && e.token < vocab, "an edit outside the vocab");
      SLUICE_ASSERT(
          edits.size() == static_cast<size_t>(d.edit_begin) || edits.back().token < e.token,
          "a row's edits are sorted by token, each token once");
      edits.push_back(e);
    }
    d.num_edits = static_cast<int32_t>(edits.size()) - d.edit_begin;
    d.mask_begin = -1;
    if (r.allowed) {
      d.mask_begin = static_cast<int64_t>(masks.size());
      masks.insert(masks.end(), r.allowed, r.allowed + words);
    }
    specs.push_back(d);
  }
  // One upload of [specs | edits | masks] and one download of the results, through a
  // page-locked buffer (pageable copies cost ~10 us each).
  auto align = [](size_t b) { return (b + 15) / 16 * 16; };
  const size_t specs_bytes = align(specs.size() * sizeof(specs[0]));
  const size_t edits_bytes = align(edits.size() * sizeof(RowSamplingEdit));
  const size_t masks_bytes = align(masks.size() * sizeof(uint32_t));
  const size_t out_bytes = rows.size() * sizeof(RowSampled);
  const size_t in_bytes = specs_bytes + edits_bytes + masks_bytes;
  uint8_t* host = sample_host_.grow(std::max(in_bytes, out_bytes));
  std::memcpy(host, specs.data(), specs.size() * sizeof(specs[0]));
  std::memcpy(host + specs_bytes, edits.data(), edits.size() * sizeof(RowSamplingEdit));
  std::memcpy(host + specs_bytes + edits_bytes, masks.data(), masks.size() * sizeof(uint32_t));
  uint8_t* in = sample_in_.grow(in_bytes);
  RowSampled* dout = sample_out_.grow(rows.size());
  float* staged = sample_staged_.grow(rows.size() * vocab);
  {  // SLUICE_PROFILE: timed apart from to_host, which collects the pairs recorded before it
    auto t = timer_->scope("sample_rows", static_cast<int64_t>(rows.size()));
    SLUICE_CUDA_CHECK(cudaMemcpyAsync(in, host, in_bytes, cudaMemcpyHostToDevice, stream_));
    cuda::sample_rows(
        x, vocab, reinterpret_cast<const DeviceRowSampling*>(in), static_cast<int64_t>(rows.size()),
        reinterpret_cast<const RowSamplingEdit*>(in + specs_bytes),
        reinterpret_cast<const uint32_t*>(in + specs_bytes + edits_bytes), staged, dout, stream_);
  }
  to_host(host, dout, out_bytes);
  std::memcpy(out, host, out_bytes);
}

}  // namespace sluice::cuda
