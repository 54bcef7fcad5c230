#include "api/http/client_socket.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

namespace sluice::api {

namespace {
thread_local int t_socket = -1;
thread_local RequestRecord t_record;
}  // namespace

RequestRecord& current_request() {
  return t_record;
}

bool client_gone() {
  return t_socket >= 0 && socket_closed_by_peer(t_socket);
}

bool socket_closed_by_peer(int socket) {
  pollfd p{socket, POLLIN, 0};
  if (poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) return true;
  char c;
  const ssize_t n = recv(socket, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return true;  // orderly close
  return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

ClientSocketScope::ClientSocketScope(int socket) {
  t_socket = socket;
  t_record = {};
}

ClientSocketScope::~ClientSocketScope() {
  t_socket = -1;
  t_record = {};
}

}  // namespace sluice::api
