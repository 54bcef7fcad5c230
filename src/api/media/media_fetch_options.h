#pragma once
// Limits and permissions for fetching the images a request names by URL (`sluice serve` flags).
#include <cstddef>
#include <string>
#include <vector>

#include "api/media/address_policy.h"

namespace sluice::api {

struct MediaFetchOptions {
  size_t max_bytes = 20u << 20;  // per image, after base64 decoding or HTTP decompression
  double timeout_s = 10;         // per fetch: DNS, connects, redirects and reading, all together
  int max_redirects = 3;         // each hop is checked like the first
  HostAllowList allowed_hosts;   // exempt from the private-address check (--allowed-media-hosts)
  std::string media_path;        // empty: file:// URLs are refused; else only files under it
};

}  // namespace sluice::api
