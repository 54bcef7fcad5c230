#include "api/http/connection_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "api/http/client_socket.h"
#include "api/http/socket_stream.h"

namespace sluice::api {

namespace {
int to_ms(time_t sec, time_t usec) {
  return static_cast<int>(sec * 1000 + usec / 1000);
}
}  // namespace

bool ConnectionServer::wait_for_request(socket_t socket) const {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(keep_alive_timeout_sec_);
  while (svr_sock_ != INVALID_SOCKET) {
    pollfd p{socket, POLLIN, 0};
    const int r = poll(&p, 1, 50);
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
    if (std::chrono::steady_clock::now() >= deadline) return false;
  }
  return false;
}

bool ConnectionServer::process_and_close_socket(socket_t socket) {
  const int one = 1;
  setsockopt(socket, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // each SSE event at once
  bool ok = false;
  {
    ClientSocketScope scope(socket);
    for (size_t left = keep_alive_max_count_; left > 0 && wait_for_request(socket); --left) {
      SocketStream stream(socket, to_ms(read_timeout_sec_, read_timeout_usec_),
                          to_ms(write_timeout_sec_, write_timeout_usec_));
      bool closed = false;
      ok = process_request(stream, left == 1, closed, nullptr);
      if (!ok || closed) break;
    }
  }
  shutdown(socket, SHUT_RDWR);
  close(socket);
  return ok;
}

}  // namespace sluice::api
