#pragma once
// The client connection an HTTP worker thread is serving, and what its handler may ask about it:
// whether the client has gone, and the per-request record the access counter reads at the end.
#include <string>

namespace sluice::api {

// What the request counter needs beyond httplib's Response: set by handlers, read once the
// response has been written, then cleared for the connection's next request.
struct RequestRecord {
  std::string route;          // the route pattern ("/v1/models/{id}"); empty: no handler ran
  std::string model;          // the model the request used; empty: none
  bool streamed = false;      // the body is an SSE stream; unless it reached its last event,
  bool stream_ended = false;  // the client left early and the request counts as 499
};

// This thread's record (one connection per worker thread at a time).
RequestRecord& current_request();

// True once the client of this thread's connection has closed it (EOF or reset), tested without
// blocking. False on a thread that serves no connection.
bool client_gone();

// True when the peer has closed `socket` (EOF or reset); never blocks.
bool socket_closed_by_peer(int socket);

// Binds a connection's socket to this thread for the scope's life.
class ClientSocketScope {
 public:
  explicit ClientSocketScope(int socket);
  ~ClientSocketScope();
  ClientSocketScope(const ClientSocketScope&) = delete;
  ClientSocketScope& operator=(const ClientSocketScope&) = delete;
};

}  // namespace sluice::api
