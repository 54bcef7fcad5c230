// Backend::argmax_rows for backends whose memory is the host's, and the sample_rows they lack.
#include <cmath>

#include "backend/backend.h"

namespace sluice {

void Backend::argmax_rows(const float* x, int64_t rows, int64_t cols, int32_t* out) {
  for (int64_t i = 0; i < rows; ++i) {
    const float* row = x + i * cols;
    float best = -INFINITY;
    int32_t at = 0;
    for (int64_t j = 0; j < cols; ++j)
      if (row[j] > best) best = row[j], at = static_cast<int32_t>(j);  // NaN: never greater
    out[i] = at;
  }
}

void Backend::sample_rows(const float*, int64_t, std::span<const RowSampling>, RowSampled*) {
  SLUICE_ASSERT(false, "this backend does not sample rows (samples_rows() is false)");
}

}  // namespace sluice
