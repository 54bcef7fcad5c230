#pragma once
// One HTTP(S) GET sent to an address chosen (and checked) beforehand: the client connects to
// `address` and never looks the host up again, while Host, SNI and certificate checks still use
// the URL's host. Redirects are returned, not followed.
#include <chrono>
#include <string>

#include "api/media/address_policy.h"
#include "api/media/http_url.h"
#include "api/media/media_fetch_error.h"

namespace sluice::api {

struct PinnedGetResult {
  enum class Outcome {
    kBody,           // a 2xx answer, read whole
    kRedirect,       // a 3xx answer with a Location
    kBadStatus,      // any other answer
    kTooLarge,       // the body (or its Content-Length) is over max_bytes
    kTimeout,        // the deadline passed
    kConnectFailed,  // no connection to `address` (another address of the host may work)
    kNetwork,        // TLS, a broken answer, ...
  };
  Outcome outcome = Outcome::kNetwork;
  int status = 0;
  std::string location;  // kRedirect
  MediaBytes body;       // kBody
  std::string error;     // kConnectFailed and kNetwork: what went wrong
};

PinnedGetResult pinned_get(const HttpUrl& url, const IpAddress& address, size_t max_bytes,
                           std::chrono::steady_clock::time_point deadline);

}  // namespace sluice::api
