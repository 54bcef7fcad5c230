// Backend memory defaults: plain host memory, for backends whose ops read host pointers.
#include <cstdlib>
#include <cstring>

#include "backend/backend.h"
#include "common/assert.h"

namespace sluice {

void* Backend::alloc(size_t bytes) {
  // calloc: large buffers come from zeroed pages, resident only once written.
  void* p = std::calloc(bytes > 0 ? bytes : 1, 1);
  SLUICE_ASSERT(p != nullptr, "out of host memory");
  return p;
}

void Backend::release(void* p) {
  std::free(p);
}

void Backend::to_device(void* dst, const void* src, size_t bytes) {
  if (bytes > 0) std::memcpy(dst, src, bytes);
}

void Backend::to_device_many(std::span<const HostUpload> uploads) {
  for (const HostUpload& u : uploads) to_device(u.dst, u.src, u.bytes);
}

void Backend::to_host(void* dst, const void* src, size_t bytes) {
  if (bytes > 0) std::memcpy(dst, src, bytes);
}

void Backend::copy(void* dst, const void* src, size_t bytes) {
  if (bytes > 0) std::memcpy(dst, src, bytes);
}

}  // namespace sluice
