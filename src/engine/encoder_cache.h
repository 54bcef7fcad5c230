#pragma once
// The vision tower's outputs by image content hash, least recently used first out, within a
// byte budget: a repeated picture (by URL, base64 or in a later turn) skips the encoder.
#include <cstdint>
#include <list>
#include <memory>
#include <unordered_map>
#include <vector>

namespace sluice {

struct ImageKey {
  uint64_t lo = 0, hi = 0;
  bool operator==(const ImageKey&) const = default;
};

class EncoderCache {
 public:
  using Embeddings = std::shared_ptr<const std::vector<float>>;  // [tokens, hidden]

  explicit EncoderCache(int64_t budget_bytes) : budget_(budget_bytes) {}

  // The cached embeddings (now the most recently used), or null.
  Embeddings find(const ImageKey& key);
  // Caches `e`, evicting the least recently used entries to stay within the budget; an entry
  // larger than the whole budget is not kept. Holders of evicted entries keep their copy.
  void insert(const ImageKey& key, Embeddings e);

  int64_t bytes() const { return bytes_; }
  int64_t budget() const { return budget_; }
  int64_t size() const { return static_cast<int64_t>(map_.size()); }
  int64_t hits() const { return hits_; }
  int64_t misses() const { return misses_; }

 private:
  struct KeyHash {
    size_t operator()(const ImageKey& k) const { return static_cast<size_t>(k.lo ^ (k.hi << 1)); }
  };
  struct Entry {
    ImageKey key;
    Embeddings value;
  };
  static int64_t size_of(const Embeddings& e) {
    return static_cast<int64_t>(e->size() * sizeof(float));
  }

  int64_t budget_, bytes_ = 0, hits_ = 0, misses_ = 0;
  std::list<Entry> lru_;  // front: most recent
  std::unordered_map<ImageKey, std::list<Entry>::iterator, KeyHash> map_;
};

}  // namespace sluice
