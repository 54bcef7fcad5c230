#include "api/http/socket_stream.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "api/http/client_socket.h"

namespace sluice::api {

namespace {

// poll() for `events` up to `timeout_ms`, retried on EINTR; true when ready.
bool wait_for(int socket, short events, int timeout_ms) {
  pollfd p{socket, events, 0};
  for (;;) {
    const int r = poll(&p, 1, timeout_ms);
    if (r >= 0) return r > 0;
    if (errno != EINTR) return false;
  }
}

void numeric_address(const sockaddr_storage& addr, socklen_t len, std::string& ip, int& port) {
  char host[NI_MAXHOST], serv[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host, sizeof host, serv,
                  sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return;
  ip = host;
  port = std::atoi(serv);
}

constexpr size_t kBufferBytes = 256 * 1024;

// Each connection is served on its own worker thread, one request (one stream) at a time.
char* thread_buffer() {
  thread_local std::unique_ptr<char[]> buffer(new char[kBufferBytes]);
  return buffer.get();
}

// recv, retried on EINTR.
ssize_t receive(int socket, char* into, size_t size, int flags) {
  ssize_t n;
  do n = recv(socket, into, size, flags);
  while (n < 0 && errno == EINTR);
  return n;
}

}  // namespace

SocketStream::SocketStream(int socket, int read_timeout_ms, int write_timeout_ms)
    : socket_(socket),
      read_timeout_ms_(read_timeout_ms),
      write_timeout_ms_(write_timeout_ms),
      buffer_(thread_buffer()) {}

ssize_t SocketStream::fill() {
  // Bytes already queued are taken without a poll; only an empty socket waits.
  ssize_t n = receive(socket_, buffer_, kBufferBytes, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    if (!wait_for(socket_, POLLIN, read_timeout_ms_)) return -1;
    n = receive(socket_, buffer_, kBufferBytes, 0);
  }
  if (n > 0) offset_ = 0, size_ = static_cast<size_t>(n);
  return n;
}

bool SocketStream::is_readable() const {
  return offset_ < size_ || wait_for(socket_, POLLIN, read_timeout_ms_);
}

bool SocketStream::is_writable() const {
  return wait_for(socket_, POLLOUT, write_timeout_ms_) && !socket_closed_by_peer(socket_);
}

ssize_t SocketStream::read(char* ptr, size_t size) {
  if (offset_ == size_)
    if (const ssize_t got = fill(); got <= 0) return got;
  const size_t n = std::min(size, size_ - offset_);
  std::memcpy(ptr, buffer_ + offset_, n);
  offset_ += n;
  return static_cast<ssize_t>(n);
}

ssize_t SocketStream::write(const char* ptr, size_t size) {
  if (!wait_for(socket_, POLLOUT, write_timeout_ms_)) return -1;
  ssize_t n;
  do n = send(socket_, ptr, size, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n;
}

void SocketStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getpeername(socket_, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    numeric_address(addr, len, ip, port);
}

void SocketStream::get_local_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(socket_, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    numeric_address(addr, len, ip, port);
}

}  // namespace sluice::api
