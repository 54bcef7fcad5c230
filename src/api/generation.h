#pragma once
// One request's life in the engine, seen from an HTTP worker: admission (429 beyond
// --max-queued-requests, engine_error() for what the engine refuses), its outputs, the request
// timeout, latency metrics, and an abort whenever the handler stops reading early (client gone).
#include <chrono>
#include <optional>
#include <string>

#include "api/server_context.h"
#include "engine/request.h"

namespace sluice::api {

class Generation {
 public:
  // Throws ApiError: 429 when the queue is full, else engine_error() of the engine's refusal
  // (its param is the engine's field name: "prompt", "top_p", ...).
  Generation(ServerContext& ctx, EngineRequest request);
  ~Generation();  // aborts an unfinished request; releases the admission slot
  Generation(const Generation&) = delete;
  Generation& operator=(const Generation&) = delete;

  // The next output, or nullopt when `poll` passed first (the caller checks its client and polls
  // again). Past --request-timeout the request is aborted; its last output then ends it.
  std::optional<RequestOutput> next(std::chrono::milliseconds poll);
  // Blocks until the request finishes; all deltas merged in order per sequence index.
  RequestOutput wait_all();
  void abort();
  bool finished() const { return finished_; }
  const std::string& id() const { return id_; }

 private:
  void observe(const RequestOutput& out);

  ServerContext& ctx_;
  std::string id_;
  std::shared_ptr<RequestStream> stream_;
  std::chrono::steady_clock::time_point start_, deadline_, last_token_;
  bool finished_ = false, aborted_ = false, seen_token_ = false;
};

}  // namespace sluice::api
