#pragma once
// What the whole server shares, whichever model a request names: options, the model registry,
// the Responses store, the image memo, metrics, and the admission and shutdown counters.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "api/media/media_memo.h"
#include "api/media/recent_data_urls.h"
#include "api/responses/response_store.h"
#include "api/server_metrics.h"
#include "api/server_options.h"

namespace sluice::api {

class ModelRegistry;

// How often media were decoded, and how often a memo spared it (by kind: image, video).
struct MediaCounters {
  std::atomic<int64_t> image_decodes{0}, image_memo_hits{0};
  std::atomic<int64_t> video_decodes{0}, video_memo_hits{0};
};

struct ServerState {
  ServerState();
  ~ServerState();
  ServerOptions options;
  int64_t created = 0;  // unix time the server started
  std::unique_ptr<ModelRegistry> models;
  ResponseStore responses;     // the Responses API's stored responses (store: true)
  ImageMemo image_memo{4096};  // content hashes of pictures already decoded
  VideoMemo video_memo{256};   // and of videos' sampled frames
  RecentDataUrls recent_data_urls{size_t{64} << 20};  // pictures' data URLs, kept whole
  MediaCounters media;                                // decodes and memo hits, for /metrics
  ServerMetrics metrics;
  std::atomic<bool> ready{false};     // /health: 503 until the models loaded at start are up
  std::atomic<bool> draining{false};  // graceful shutdown: new requests and /health get 503
  std::atomic<int> in_flight{0};      // generation requests admitted, over every model
  std::atomic<uint64_t> next_id{1};

  // Throws 503 once the server is shutting down.
  void require_running() const;
  // "chatcmpl-<n>" style ids, unique per server run.
  std::string new_id(const std::string& prefix) { return prefix + std::to_string(next_id++); }
};

}  // namespace sluice::api
