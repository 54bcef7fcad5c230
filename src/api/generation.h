#pragma once
// One request's life in the engine, seen from an HTTP worker: admission (429 beyond
// --max-queued-requests, engine_error() for what the engine refuses), its outputs, the request
// timeout, latency metrics, and an abort whenever the handler stops reading early (client gone).
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "api/model_context.h"
#include "engine/request.h"

namespace sluice::api {

// Why a request ended with finish reason "abort".
enum class AbortCause {
  kNone,
  kTimeout,     // --request-timeout
  kClientGone,  // the client closed its connection
  kShutdown,    // the engine was shut down (graceful-shutdown timeout)
  kFailed,      // the handler failed while streaming (an internal error)
};

class Generation {
 public:
  // Throws ApiError: 429 when the queue is full, else engine_error() of the engine's refusal
  // (its param is the engine's field name: "prompt", "top_p", ...).
  Generation(ModelContext& ctx, EngineRequest request);
  ~Generation();  // aborts an unfinished request; releases the admission slot
  Generation(const Generation&) = delete;
  Generation& operator=(const Generation&) = delete;

  // The next output, or nullopt when `poll` passed first (the caller checks its client and polls
  // again). Past --request-timeout the request is aborted; its last output then ends it.
  std::optional<RequestOutput> next(std::chrono::milliseconds poll);
  // Blocks until the request finishes; all deltas merged in order per sequence index. Asks
  // `client_gone` after every output and every 100 ms, and aborts the request once it says so.
  RequestOutput wait_all(const std::function<bool()>& client_gone);
  void abort(AbortCause cause);
  // Why the request was aborted; kShutdown when the engine did it unasked.
  AbortCause abort_cause() const;
  bool finished() const { return finished_; }
  const std::string& id() const { return id_; }

 private:
  void observe(const RequestOutput& out);

  ModelContext& ctx_;
  std::shared_ptr<ModelContext> keep_;  // the model stays loaded while the request runs
  std::string id_;
  std::shared_ptr<RequestStream> stream_;
  std::chrono::steady_clock::time_point start_, deadline_, first_token_, last_token_;
  AbortCause cause_ = AbortCause::kNone;  // set by abort()
  bool finished_ = false, seen_token_ = false, aborted_by_engine_ = false;
};

// A finished request's final delta of one sequence, checked: 499 when the client left, 503 when
// the request was aborted (timeout, shutdown), 500 when the engine failed it.
const SequenceDelta& checked_final(const SequenceDelta* d, const std::string& error,
                                   AbortCause cause);

}  // namespace sluice::api
