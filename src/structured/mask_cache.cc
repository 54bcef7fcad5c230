#include "structured/mask_cache.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "structured/token_walker.h"

namespace sluice::structured {

size_t NodeMask::memory_bytes() const {
  return sizeof(NodeMask) + accepted_bits.size() * 4 + accepted_ids.size() * 4 +
         uncertain.size() * 6;
}

MaskCache::MaskCache(const Grammar& g, const std::shared_ptr<const TokenVocab>& vocab)
    : g_(g), vocab_(vocab.get()), masks_(new std::atomic<const NodeMask*>[g.num_nodes()]) {
  for (int32_t i = 0; i < g.num_nodes(); ++i) masks_[i].store(nullptr);
}

MaskCache::~MaskCache() = default;

const NodeMask& MaskCache::get(int32_t node) {
  if (const NodeMask* m = masks_[node].load(std::memory_order_acquire)) return *m;
  FramePool pool;
  TokenWalker walker(g_, *vocab_, pool);
  std::vector<int32_t> accepted, uncertain;
  const auto t0 = std::chrono::steady_clock::now();
  walker.classify(node, accepted, uncertain);
  static const bool debug = std::getenv("SLUICE_MASK_DEBUG") != nullptr;
  if (debug)  // one line per computed node: id, accepted, uncertain, milliseconds
    std::fprintf(
        stderr, "mask_cache node=%d accepted=%zu uncertain=%zu ms=%.2f\n", node, accepted.size(),
        uncertain.size(),
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  auto mask = std::make_unique<NodeMask>();
  const int32_t words = (vocab_->size() + 31) / 32;
  if (static_cast<int32_t>(accepted.size()) > words) {
    mask->accepted_bits.assign(words, 0);
    for (int32_t i : accepted) {
      const int32_t id = vocab_->sorted_id(i);
      mask->accepted_bits[id >> 5] |= 1u << (id & 31);
    }
  } else {
    for (int32_t i : accepted) mask->accepted_ids.push_back(vocab_->sorted_id(i));
  }
  mask->uncertain = std::move(uncertain);
  mask->uncertain_lcp.resize(mask->uncertain.size(), 0);
  for (size_t k = 1; k < mask->uncertain.size(); ++k) {
    const std::string_view a = vocab_->sorted_bytes(mask->uncertain[k - 1]);
    const std::string_view b = vocab_->sorted_bytes(mask->uncertain[k]);
    size_t l = 0;
    while (l < a.size() && l < b.size() && a[l] == b[l]) ++l;
    mask->uncertain_lcp[k] = static_cast<uint16_t>(std::min<size_t>(l, 65535));
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (const NodeMask* m = masks_[node].load(std::memory_order_acquire)) return *m;
  owned_.push_back(std::move(mask));
  masks_[node].store(owned_.back().get(), std::memory_order_release);
  return *owned_.back();
}

size_t MaskCache::memory_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t total = size_t(g_.num_nodes()) * sizeof(void*);
  for (const auto& m : owned_) total += m->memory_bytes();
  return total;
}

int32_t MaskCache::num_computed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int32_t>(owned_.size());
}

}  // namespace sluice::structured
