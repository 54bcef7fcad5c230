#pragma once
// httplib's Stream over one client socket, read through a small buffer (httplib reads request
// lines a byte at a time). is_writable() also fails once the client has closed, so a streamed
// response stops at its next event instead of its next failed write.
#include <httplib.h>

#include <array>
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
  int socket_;
  int read_timeout_ms_, write_timeout_ms_;
  std::array<char, 4096> buffer_;
  size_t offset_ = 0, size_ = 0;  // unread bytes are buffer_[offset_, size_)
};

}  // namespace sluice::api
