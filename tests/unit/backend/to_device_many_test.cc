// Backend::to_device_many on every backend here: each array lands whole, whatever the mix
// (the CUDA backend's one-kernel path and its fallbacks), from the host data as it was at the call.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "backend/backend.h"

namespace sluice {
namespace {

std::vector<std::unique_ptr<Backend>> backends() {
  std::vector<std::unique_ptr<Backend>> out;
  out.push_back(make_cpu_backend(1));
  if (cuda_available()) {
    auto be = make_backend("cuda", 0);
    if (be.ok()) out.push_back(std::move(be.value()));
  }
  return out;
}

// Arrays of `sizes` bytes, each byte a function of (call, array, offset); sent in one call,
// their host copies overwritten at once, then read back.
void send_and_check(Backend& be, const std::vector<size_t>& sizes, int calls) {
  std::vector<void*> dst;
  for (size_t s : sizes) dst.push_back(be.alloc(s));
  std::vector<std::vector<uint8_t>> host(sizes.size());
  for (int call = 0; call < calls; ++call) {
    std::vector<HostUpload> ups;
    for (size_t i = 0; i < sizes.size(); ++i) {
      host[i].resize(sizes[i]);
      for (size_t j = 0; j < sizes[i]; ++j)
        host[i][j] = static_cast<uint8_t>(call * 31 + i * 7 + j);
      ups.push_back({dst[i], host[i].data(), sizes[i]});
    }
    be.to_device_many(ups);
    for (auto& h : host) std::fill(h.begin(), h.end(), uint8_t{0xEE});  // the call has copied
  }
  for (size_t i = 0; i < sizes.size(); ++i) {
    std::vector<uint8_t> got(sizes[i]);
    be.to_host(got.data(), dst[i], sizes[i]);
    for (size_t j = 0; j < sizes[i]; ++j)
      ASSERT_EQ(got[j], static_cast<uint8_t>((calls - 1) * 31 + i * 7 + j))
          << be.name() << " array " << i << " of " << sizes.size() << " at " << j;
    be.release(dst[i]);
  }
}

TEST(ToDeviceMany, EveryArrayLandsWhole) {
  for (auto& be : backends()) {
    send_and_check(*be, {4, 28, 4000, 0, 1024 * 5}, 3);   // words: one launch on CUDA
    send_and_check(*be, {8, 6, 12}, 2);                   // 6 bytes: copies one by one
    send_and_check(*be, std::vector<size_t>(17, 64), 2);  // more arrays than one launch takes
    send_and_check(*be, {16, 100 << 10}, 2);              // more bytes than the staging holds
  }
}

}  // namespace
}  // namespace sluice
