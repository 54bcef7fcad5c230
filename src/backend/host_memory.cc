// Backend memory defaults: plain host memory, for backends whose ops read host pointers.
#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "backend/backend.h"
#include "common/assert.h"

namespace sluice {
namespace {

// From this size on (the paged KV cache's per-layer buffers), buffers are anonymous mappings
// with transparent huge pages asked for: the cache is written a 4 KB token row at a time, in
// blocks scattered over the buffer, and on 4 KB pages nearly every such write of a new block
// was a page fault (Qwen3-0.6B shape: 0.56 ms per 16-token cache write), and attention's reads
// of those rows missed the TLB.
constexpr size_t kMappedFrom = size_t{4} << 20;
constexpr size_t kHugePage = size_t{2} << 20;

std::mutex g_mapped_mutex;
std::unordered_map<void*, size_t>& mapped() {  // pointer -> mapped length
  static auto* m = new std::unordered_map<void*, size_t>;
  return *m;
}

// A zero-filled mapping of `bytes` aligned to a huge page (pages stay lazily resident), or
// null when the system refuses one.
void* map_huge(size_t bytes) {
  const size_t len = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* raw = mmap(nullptr, len + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  // Trim to a huge-page-aligned [p, p + len).
  auto* base = static_cast<uint8_t*>(raw);
  const uintptr_t at = reinterpret_cast<uintptr_t>(base);
  uint8_t* p = base + ((kHugePage - at % kHugePage) % kHugePage);
  if (p > base) munmap(base, static_cast<size_t>(p - base));
  const size_t tail = static_cast<size_t>(base + len + kHugePage - (p + len));
  if (tail > 0) munmap(p + len, tail);
  (void)madvise(p, len, MADV_HUGEPAGE);  // a hint: 4 KB pages still work without it
  const std::lock_guard<std::mutex> lock(g_mapped_mutex);
  mapped()[p] = len;
  return p;
}

}  // namespace

void* Backend::alloc(size_t bytes) {
#if !defined(__SANITIZE_ADDRESS__)  // under ASan, calloc keeps the bounds checks
  if (bytes >= kMappedFrom)
    if (void* p = map_huge(bytes)) return p;
#endif
  // calloc: large buffers come from zeroed pages, resident only once written.
  void* p = std::calloc(bytes > 0 ? bytes : 1, 1);
  SLUICE_ASSERT(p != nullptr, "out of host memory");
  return p;
}

void Backend::release(void* p) {
  {
    const std::lock_guard<std::mutex> lock(g_mapped_mutex);
    auto it = mapped().find(p);
    if (it != mapped().end()) {
      munmap(p, it->second);
      mapped().erase(it);
      return;
    }
  }
  std::free(p);
}

void Backend::to_device(void* dst, const void* src, size_t bytes) {
  if (bytes > 0) std::memcpy(dst, src, bytes);
}

void Backend::to_host(void* dst, const void* src, size_t bytes) {
  if (bytes > 0) std::memcpy(dst, src, bytes);
}

void Backend::copy(void* dst, const void* src, size_t bytes) {
  if (bytes > 0) std::memcpy(dst, src, bytes);
}

}  // namespace sluice
