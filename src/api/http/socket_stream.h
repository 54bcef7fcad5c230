#pragma once
// httplib's Stream over one client socket, read through a buffer (httplib reads request lines a
// byte at a time and bodies 4 KiB at a time): one recv takes whatever the kernel holds, up to
// 256 KiB, so a large body costs few system calls. is_writable() also fails once the client has
// closed, so a streamed response stops at its next event instead of its next failed write.
#include <httplib.h>

#include <string>

namespace sluice::api {

class SocketStream final : public httplib::Stream {
 public:
  SocketStream(int socket, int read_timeout_ms, int write_timeout_ms);
  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  int socket() const override { return socket_; }

 private:
  // Refills buffer_; recv's result (0: the peer closed; -1: error or read timeout).
  ssize_t fill();

  int socket_;
  int read_timeout_ms_, write_timeout_ms_;
  char* buffer_;                  // the worker thread's receive buffer (one stream per thread)
  size_t offset_ = 0, size_ = 0;  // unread bytes are buffer_[offset_, size_)
};

}  // namespace sluice::api
