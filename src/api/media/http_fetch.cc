#include "api/media/http_fetch.h"

#include <chrono>
#include <string>

#include "api/media/host_resolver.h"
#include "api/media/http_url.h"
#include "api/media/pinned_get.h"

namespace sluice::api {

namespace {

using Clock = std::chrono::steady_clock;
using Outcome = PinnedGetResult::Outcome;

std::string seconds(double s) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g s", s);
  return text;
}

}  // namespace

MediaFetchResult fetch_http(std::string_view url, const MediaFetchOptions& options) {
  const Clock::time_point deadline =
      Clock::now() +
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.timeout_s));
  const std::string timeout = "no answer within " + seconds(options.timeout_s);
  std::string hop_url(url);
  for (int hop = 0;; ++hop) {
    // Errors on a later hop say where the redirects led.
    const std::string at = hop == 0 ? "" : "redirected to " + url_for_message(hop_url) + ": ";
    auto fail = [&](MediaFetchErrorKind kind, const std::string& what) {
      return fetch_error(kind, url, at + what);
    };
    std::string error;
    const std::optional<HttpUrl> parsed = parse_http_url(hop_url, &error);
    if (!parsed) return fail(MediaFetchErrorKind::kBadUrl, error);

    const ResolvedHost resolved = resolve_host(parsed->host, deadline);
    if (resolved.timed_out) return fail(MediaFetchErrorKind::kTimeout, timeout);
    if (resolved.addresses.empty())
      return fail(MediaFetchErrorKind::kNetwork,
                  "cannot resolve " + parsed->host + " (" + resolved.error + ")");
    for (const IpAddress& address : resolved.addresses) {  // all of them, not only the one used
      if (std::optional<std::string> refused =
              refusal_reason(options.allowed_hosts, parsed->host, parsed->port, address))
        return fail(MediaFetchErrorKind::kBlockedAddress, *refused);
    }

    PinnedGetResult got;
    for (const IpAddress& address : resolved.addresses) {
      got = pinned_get(*parsed, address, options.max_bytes, deadline);
      if (got.outcome != Outcome::kConnectFailed) break;
    }
    switch (got.outcome) {
      case Outcome::kBody:
        return std::move(got.body);
      case Outcome::kRedirect:
        if (hop >= options.max_redirects)
          return fail(MediaFetchErrorKind::kTooManyRedirects,
                      "more than " + std::to_string(options.max_redirects) + " redirects");
        hop_url = resolve_location(*parsed, got.location);
        continue;
      case Outcome::kBadStatus:
        return fail(MediaFetchErrorKind::kHttpStatus, "HTTP " + std::to_string(got.status));
      case Outcome::kTooLarge:
        return fail(MediaFetchErrorKind::kTooLarge,
                    "the image is over the " + std::to_string(options.max_bytes) + "-byte limit");
      case Outcome::kTimeout:
        return fail(MediaFetchErrorKind::kTimeout, timeout);
      case Outcome::kConnectFailed:
        return fail(MediaFetchErrorKind::kNetwork,
                    "cannot connect to " + parsed->host + " (" + got.error + ")");
      case Outcome::kNetwork:
        return fail(MediaFetchErrorKind::kNetwork, got.error);
    }
  }
}

}  // namespace sluice::api
