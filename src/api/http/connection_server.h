#pragma once
// httplib's Server with its own connection loop: each connection is served through our
// SocketStream with its socket bound to the worker thread (client_socket.h), so a handler that
// waits can see its client leave; idle keep-alive waits end as soon as the server stops.
#include <httplib.h>

namespace sluice::api {

class ConnectionServer : public httplib::Server {
 private:
  bool process_and_close_socket(socket_t socket) override;
  // Waits for the connection's next request: true when bytes (or EOF) arrived in time.
  bool wait_for_request(socket_t socket) const;
};

}  // namespace sluice::api
