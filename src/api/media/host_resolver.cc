#include "api/media/host_resolver.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

namespace sluice::api {

namespace {

// One getaddrinfo call: its return code and the stream addresses it gave.
int lookup(const std::string& host, int flags, std::vector<IpAddress>* out) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = flags;
  addrinfo* list = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &list);
  if (rc != 0) return rc;
  for (const addrinfo* a = list; a; a = a->ai_next) {
    if (a->ai_family != AF_INET && a->ai_family != AF_INET6) continue;
    const IpAddress ip = IpAddress::from_sockaddr(*a->ai_addr);
    const bool seen = std::any_of(out->begin(), out->end(), [&](const IpAddress& o) {
      return o.v6 == ip.v6 && o.bytes == ip.bytes;
    });
    if (!seen) out->push_back(ip);
  }
  freeaddrinfo(list);
  return 0;
}

// What the lookup thread and the waiting caller share; the thread may outlive the caller.
struct PendingLookup {
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  int rc = 0;
  std::vector<IpAddress> addresses;
};

}  // namespace

ResolvedHost resolve_host(const std::string& host, std::chrono::steady_clock::time_point deadline) {
  ResolvedHost out;
  // Numeric forms (including inet_aton's "2130706433" and "0x7f.1") resolve without the network.
  if (lookup(host, AI_NUMERICHOST, &out.addresses) == 0 && !out.addresses.empty()) return out;
  out.addresses.clear();
  auto pending = std::make_shared<PendingLookup>();
  try {
    std::thread([pending, host] {
      std::vector<IpAddress> addresses;
      const int rc = lookup(host, 0, &addresses);
      std::lock_guard<std::mutex> lock(pending->mutex);
      pending->rc = rc;
      pending->addresses = std::move(addresses);
      pending->done = true;
      pending->done_cv.notify_all();
    }).detach();
  } catch (const std::system_error& e) {
    out.error = std::string("cannot start a name lookup: ") + e.what();
    return out;
  }
  std::unique_lock<std::mutex> lock(pending->mutex);
  if (!pending->done_cv.wait_until(lock, deadline, [&] { return pending->done; })) {
    out.timed_out = true;
    return out;
  }
  if (pending->rc != 0) {
    out.error = gai_strerror(pending->rc);
    return out;
  }
  out.addresses = std::move(pending->addresses);
  if (out.addresses.empty()) out.error = "no IPv4 or IPv6 address";
  return out;
}

}  // namespace sluice::api
