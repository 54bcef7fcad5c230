#include "backend/host_rows.h"

#include "backend/cpu/cpu_kernels.h"

namespace sluice {

int64_t host_argmax_row(const float* x, int64_t n) {
  return cpu::argmax_row(x, n);
}

}  // namespace sluice
