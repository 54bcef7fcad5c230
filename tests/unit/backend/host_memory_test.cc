// Host memory of the CPU backends (Backend's defaults).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

#include "backend/backend.h"

namespace sluice {
namespace {

// Small buffers and large ones (mapped, huge pages asked for) come zeroed and writable to their
// last byte, and release gives them back.
TEST(HostMemory, AllocIsZeroedAtEverySize) {
  auto be = make_cpu_backend(1);
  for (size_t bytes : {size_t{1}, size_t{4096}, size_t{4} << 20, (size_t{9} << 20) + 3}) {
    for (int round = 0; round < 2; ++round) {  // the second round may reuse what the first freed
      auto* p = static_cast<uint8_t*>(be->alloc(bytes));
      ASSERT_NE(p, nullptr);
      for (size_t i = 0; i < bytes; i += 4093) ASSERT_EQ(p[i], 0) << bytes << " at " << i;
      ASSERT_EQ(p[bytes - 1], 0) << bytes;
      std::memset(p, 0xAB, bytes);
      be->release(p);
    }
  }
}

}  // namespace
}  // namespace sluice
