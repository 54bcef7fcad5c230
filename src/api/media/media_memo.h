#pragma once
// Media already decoded, by the digest of their encoded bytes (or data URL text): the same file
// sent again (an agent resends its screenshots every turn) needs no decoding to find its content
// hashes, and its pixels are made again only if the engine must run the encoder. Thread-safe; LRU.
#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "media/content_hash.h"

namespace sluice::api {

// A decoded picture as the caches know it.
struct SeenPicture {
  media::ContentHash pixels;  // content_hash of the decoded picture
  int width = 0, height = 0;  // as decoded, before the model's processor sizes it
};

template <class Value>
class MediaMemo {
 public:
  explicit MediaMemo(size_t capacity) : capacity_(capacity) {}

  std::optional<Value> find(const media::ContentHash& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(key);
    if (it == map_.end()) return std::nullopt;
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->second;
  }

  void insert(const media::ContentHash& key, Value value) {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = map_.find(key); it != map_.end()) {
      it->second->second = std::move(value);
      lru_.splice(lru_.begin(), lru_, it->second);
      return;
    }
    lru_.emplace_front(key, std::move(value));
    map_[key] = lru_.begin();
    if (lru_.size() > capacity_) {
      map_.erase(lru_.back().first);
      lru_.pop_back();
    }
  }

 private:
  struct KeyHash {
    size_t operator()(const media::ContentHash& k) const { return static_cast<size_t>(k.low); }
  };
  using Item = std::pair<media::ContentHash, Value>;

  size_t capacity_;
  std::mutex mu_;
  std::list<Item> lru_;  // front: most recent
  std::unordered_map<media::ContentHash, typename std::list<Item>::iterator, KeyHash> map_;
};

// A decoded video as the caches know it: its sampled frames in order, and when each was taken.
struct SeenVideo {
  std::vector<SeenPicture> frames;
  std::vector<double> times_s;  // [frames.size()] seconds from the first frame
};

// Pictures by their file's digest.
using ImageMemo = MediaMemo<SeenPicture>;
// Videos by their file's digest and sampling.
using VideoMemo = MediaMemo<SeenVideo>;

}  // namespace sluice::api
