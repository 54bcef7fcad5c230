// Backend::argmax_rows for backends whose memory is the host's, and the sample_rows they lack.
#include "backend/backend.h"
#include "backend/reference/ref_ops.h"

namespace sluice {

void Backend::argmax_rows(const float* x, int64_t rows, int64_t cols, int32_t* out) {
  for (int64_t i = 0; i < rows; ++i) out[i] = ref::argmax(x + i * cols, cols);
}

void Backend::sample_rows(const float*, int64_t, std::span<const RowSampling>, RowSampled*) {
  SLUICE_ASSERT(false, "this backend does not sample rows (samples_rows() is false)");
}

}  // namespace sluice
