#pragma once
// Pictures already decoded, by the digest of their encoded bytes: the same file sent again (an
// agent resends its screenshots every turn) needs no decoding to find its content hash, and its
// pixels are made again only if the engine must run the encoder. Thread-safe; LRU.
#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "media/content_hash.h"

namespace sluice::api {

class ImageMemo {
 public:
  struct Entry {
    media::ContentHash pixels;  // content_hash of the decoded picture
    int width = 0, height = 0;
  };

  explicit ImageMemo(size_t capacity = 4096) : capacity_(capacity) {}

  std::optional<Entry> find(const media::ContentHash& bytes);
  void insert(const media::ContentHash& bytes, const Entry& entry);

 private:
  struct KeyHash {
    size_t operator()(const media::ContentHash& k) const { return static_cast<size_t>(k.low); }
  };
  using Item = std::pair<media::ContentHash, Entry>;

  size_t capacity_;
  std::mutex mu_;
  std::list<Item> lru_;  // front: most recent
  std::unordered_map<media::ContentHash, std::list<Item>::iterator, KeyHash> map_;
};

}  // namespace sluice::api
