#pragma once
// The HTTP server: cpp-httplib with a large worker pool (every streaming response holds a
// worker), auth, CORS, body limits and error bodies in the protocol's shape, and the route groups.
#include <memory>

#include "api/server_state.h"
#include "common/status.h"

namespace httplib {
class Server;
}

namespace sluice::api {

class HttpServer {
 public:
  explicit HttpServer(ServerState& state);
  ~HttpServer();
  Status bind();  // binds host:port (so /health answers 503 while the model loads)
  void run();     // serves until stop()
  void stop();
  // stop() once run() has started listening (a stop before that would be lost), waiting up to
  // timeout_s for it: for a model load that fails before the server is up.
  void stop_once_running(double timeout_s);
  // Graceful stop: /health and new requests get 503 at once, requests in flight get `timeout_s`
  // to finish, the rest are aborted (streams end with an error event), then stop(). Blocks.
  void drain(double timeout_s);
  int port() const { return port_; }

 private:
  ServerState& state_;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  int listen_socket_ = -1;  // the listening socket, once bound
};

}  // namespace sluice::api
