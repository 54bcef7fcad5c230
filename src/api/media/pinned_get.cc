#include "api/media/pinned_get.h"

#include <httplib.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace sluice::api {

namespace {

using Clock = std::chrono::steady_clock;
using Outcome = PinnedGetResult::Outcome;

// httplib's timeouts bound each connect, read and write, not a whole request; this stops the
// client (shuts its socket down) once the deadline passes, so a slow drip of bytes ends too.
class Watchdog {
 public:
  Watchdog(httplib::ClientImpl& client, Clock::time_point deadline)
      : thread_([this, &client, deadline] {
          std::unique_lock<std::mutex> lock(mutex_);
          if (done_cv_.wait_until(lock, deadline, [this] { return done_; })) return;
          fired_ = true;
          while (!done_) {  // a connect still under way opens its socket later: stop again
            client.stop();
            done_cv_.wait_for(lock, std::chrono::milliseconds(20), [this] { return done_; });
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    done_cv_.notify_all();
    thread_.join();
  }
  bool fired() {
    std::lock_guard<std::mutex> lock(mutex_);
    return fired_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  bool fired_ = false;
  std::thread thread_;  // last: it starts once the members it reads exist
};

std::string describe(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection:
      return "connection failed";
    case httplib::Error::ConnectionTimeout:
      return "connection timed out";
    case httplib::Error::Read:
      return "the connection broke while reading the answer";
    case httplib::Error::Write:
      return "the connection broke while sending the request";
    case httplib::Error::SSLConnection:
      return "TLS handshake failed";
    case httplib::Error::SSLServerVerification:
      return "the server's TLS certificate did not verify";
    case httplib::Error::SSLLoadingCerts:
      return "cannot load the CA certificates";
    case httplib::Error::Compression:
      return "cannot decompress the answer";
    default:
      return "HTTP client error: " + httplib::to_string(error);
  }
}

void set_timeout(httplib::ClientImpl& client, Clock::duration remaining) {
  using std::chrono::microseconds;
  // The connect ends just after the deadline; reads and writes are the watchdog's to end.
  const auto connect = std::chrono::duration_cast<microseconds>(remaining) + microseconds(10000);
  const auto io = connect + microseconds(1000000);
  client.set_connection_timeout(connect.count() / 1000000, connect.count() % 1000000);
  client.set_read_timeout(io.count() / 1000000, io.count() % 1000000);
  client.set_write_timeout(io.count() / 1000000, io.count() % 1000000);
}

}  // namespace

PinnedGetResult pinned_get(const HttpUrl& url, const IpAddress& address, size_t max_bytes,
                           Clock::time_point deadline) {
  PinnedGetResult out;
  const Clock::duration remaining = deadline - Clock::now();
  if (remaining <= Clock::duration::zero()) {
    out.outcome = Outcome::kTimeout;
    return out;
  }
  std::unique_ptr<httplib::ClientImpl> client;
  if (url.https)
    client = std::make_unique<httplib::SSLClient>(url.host, url.port);
  else
    client = std::make_unique<httplib::ClientImpl>(url.host, url.port);
  client->set_hostname_addr_map({{url.host, address.to_string()}});
  set_timeout(*client, remaining);
  client->set_follow_location(false);
  client->set_keep_alive(false);
  client->set_url_encode(false);  // parse_http_url encoded what needs it; the rest goes as given
  const httplib::Headers headers = {{"User-Agent", "sluice"}, {"Accept", "image/*, */*;q=0.8"}};

  bool answered = false, too_large = false;
  auto on_response = [&](const httplib::Response& res) {
    answered = true;
    out.status = res.status;
    if (res.status >= 300 && res.status < 400 && res.has_header("Location")) {
      out.location = res.get_header_value("Location");
      return false;
    }
    if (res.status < 200 || res.status >= 300) return false;
    if (res.has_header("Content-Length")) {
      const uint64_t length = res.get_header_value<uint64_t>("Content-Length");
      if (length > max_bytes) {
        too_large = true;
        return false;
      }
      out.body.reserve(static_cast<size_t>(length));
    }
    return true;
  };
  auto on_data = [&](const char* data, size_t n) {
    if (n > max_bytes - out.body.size()) {  // stop reading at once, Content-Length or not
      too_large = true;
      return false;
    }
    out.body.insert(out.body.end(), data, data + n);
    return true;
  };

  // A body read to its end counts unless the watchdog cut it (a cut can look like the end of a
  // body that runs until the connection closes); a failure at the deadline is a timeout.
  bool got_body = false, cut = false;
  httplib::Error error = httplib::Error::Success;
  {
    Watchdog watchdog(*client, deadline);
    const httplib::Result result = client->Get(url.target, headers, on_response, on_data);
    got_body = static_cast<bool>(result);
    error = result.error();
    cut = watchdog.fired();
  }
  const bool timed_out = cut || Clock::now() >= deadline;
  if (too_large) {
    out.outcome = Outcome::kTooLarge;
  } else if (answered && !out.location.empty()) {
    out.outcome = Outcome::kRedirect;
  } else if (answered && (out.status < 200 || out.status >= 300)) {
    out.outcome = Outcome::kBadStatus;
  } else if (got_body && !cut) {
    out.outcome = Outcome::kBody;
  } else if (timed_out) {
    out.outcome = Outcome::kTimeout;
  } else {
    const bool connect = !answered && (error == httplib::Error::Connection ||
                                       error == httplib::Error::ConnectionTimeout);
    out.outcome = connect ? Outcome::kConnectFailed : Outcome::kNetwork;
    out.error = describe(error);
  }
  if (out.outcome != Outcome::kBody) out.body.clear();
  return out;
}

}  // namespace sluice::api
