#pragma once
// Name lookup with a deadline: getaddrinfo cannot be interrupted, so a slow lookup runs on its own
// thread and is abandoned (left to finish on its own) when the deadline passes.
#include <chrono>
#include <string>
#include <vector>

#include "api/media/address_policy.h"

namespace sluice::api {

struct ResolvedHost {
  std::vector<IpAddress> addresses;  // in getaddrinfo's order, without repeats; empty on failure
  bool timed_out = false;
  std::string error;  // getaddrinfo's reason when the lookup failed
};

// The addresses of `host` (an IP literal needs no lookup).
ResolvedHost resolve_host(const std::string& host, std::chrono::steady_clock::time_point deadline);

}  // namespace sluice::api
