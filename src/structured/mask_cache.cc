#include "structured/mask_cache.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "common/env.h"
#include "structured/token_walker.h"

namespace sluice::structured {

namespace {

constexpr int32_t kMaxChangesPart = 8;  // keep at most vocab / 8 changing tokens per node

// lcp[k]: the common prefix of sorted tokens list[k - 1] and list[k].
std::vector<uint16_t> common_prefixes(const TokenVocab& vocab, const std::vector<int32_t>& list) {
  std::vector<uint16_t> lcp(list.size(), 0);
  for (size_t k = 1; k < list.size(); ++k) {
    const std::string_view a = vocab.sorted_bytes(list[k - 1]);
    const std::string_view b = vocab.sorted_bytes(list[k]);
    size_t l = 0;
    while (l < a.size() && l < b.size() && a[l] == b[l]) ++l;
    lcp[k] = static_cast<uint16_t>(std::min<size_t>(l, 65535));
  }
  return lcp;
}

}  // namespace

size_t NodeMask::memory_bytes() const {
  return sizeof(NodeMask) + accepted_bits.size() * 4 + accepted_ids.size() * 4 +
         uncertain.size() * 6 + changes.size() * 8 + mixed.size() * 6;
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
  Classified c;
  const auto t0 = std::chrono::steady_clock::now();
  walker.classify(node, c);
  static const bool debug = env::enabled(env::Switch::kMaskDebug);
  if (debug)  // one line per computed node: id, accepted, uncertain, milliseconds
    std::fprintf(
        stderr, "mask_cache node=%d accepted=%zu uncertain=%zu ms=%.2f\n", node, c.accepted.size(),
        c.uncertain.size(),
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  auto mask = std::make_unique<NodeMask>();
  const int32_t words = (vocab_->size() + 31) / 32;
  if (static_cast<int32_t>(c.accepted.size()) > words) {
    mask->accepted_bits.assign(words, 0);
    for (int32_t i : c.accepted) {
      const int32_t id = vocab_->sorted_id(i);
      mask->accepted_bits[id >> 5] |= 1u << (id & 31);
    }
  } else {
    for (int32_t i : c.accepted) mask->accepted_ids.push_back(vocab_->sorted_id(i));
  }
  mask->uncertain = std::move(c.uncertain);
  mask->uncertain_lcp = common_prefixes(*vocab_, mask->uncertain);
  mask->max_increase = c.max_increase;
  if (c.changes.size() > size_t(vocab_->size() / kMaxChangesPart)) {
    mask->changes_dropped = true;
  } else {
    std::sort(c.changes.begin(), c.changes.end());
    for (const auto& [change, i] : c.changes) {
      mask->changes.push_back(change);
      mask->change_ids.push_back(vocab_->sorted_id(i));
    }
  }
  mask->mixed = std::move(c.mixed);
  mask->mixed_lcp = common_prefixes(*vocab_, mask->mixed);
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
