#include "engine/encoder_cache.h"

namespace sluice {

EncoderCache::Embeddings EncoderCache::find(const ImageKey& key) {
  auto it = map_.find(key);
  if (it == map_.end()) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->value;
}

void EncoderCache::insert(const ImageKey& key, Embeddings e) {
  if (auto it = map_.find(key); it != map_.end()) {
    bytes_ -= size_of(it->second->value);
    lru_.erase(it->second);
    map_.erase(it);
  }
  const int64_t need = size_of(e);
  if (need > budget_) return;
  while (bytes_ + need > budget_) {
    bytes_ -= size_of(lru_.back().value);
    map_.erase(lru_.back().key);
    lru_.pop_back();
  }
  lru_.push_front({key, std::move(e)});
  map_[key] = lru_.begin();
  bytes_ += need;
}

}  // namespace sluice
