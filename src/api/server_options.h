#pragma once
// Options of `sluice serve` that the HTTP layer reads.
#include <cstdint>
#include <string>
#include <vector>

#include "api/media/media_fetch_options.h"
#include "api/media/video_options.h"

namespace sluice::api {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;
  std::string api_key;                    // empty: no auth
  std::string served_model_name;          // empty: the model file's name
  bool strict_model_id = false;           // 404 for a request naming another model
  int max_queued_requests = 1024;         // requests admitted and not finished; beyond: 429
  double request_timeout_s = 0;           // 0: none; else the request is aborted after this long
  double shutdown_timeout_s = 10;         // graceful shutdown: time running requests get
  std::vector<std::string> cors_origins;  // "*" or exact origins; empty: no CORS headers
  size_t max_body_bytes = 32u << 20;      // beyond: 413
  int http_threads = 512;                 // concurrent connections (streams hold one each)
  std::string tool_call_parser = "auto";  // a tool-call format name, "auto" or "none"
  std::string reasoning_parser = "auto";  // "auto" (from the template), "think" or "none"
  int max_thinking_tokens = -1;           // default reasoning budget; < 0: unlimited
  int max_output_tokens = 0;              // > 0: caps every request's max_tokens
  int64_t max_images = 16;          // images per request, video frames included (--max-images)
  size_t stored_responses = 1000;   // Responses API store: responses kept (LRU beyond)
  size_t stored_bytes = 64u << 20;  // and their serialized bytes (LRU beyond)
  MediaFetchOptions media;          // images named by URL: caps, allow-list, file root
  VideoOptions video;               // video_url parts: sampling and caps
};

}  // namespace sluice::api
