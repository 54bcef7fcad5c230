#pragma once
// Which addresses a media URL may reach (the SSRF guard): every address a host resolves to must be
// public, unless the host, or that address, is on the --allowed-media-hosts list.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct sockaddr;

namespace sluice::api {

struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // network order; the first 4 for IPv4

  // A numeric IPv4 (dotted quad) or IPv6 address, without brackets; nothing for anything else.
  static std::optional<IpAddress> parse(std::string_view text);
  static IpAddress from_sockaddr(const sockaddr& address);  // AF_INET or AF_INET6
  std::string to_string() const;                            // "127.0.0.1", "::ffff:127.0.0.1"
};

enum class AddressClass {
  kPublic,
  kUnspecified,  // 0.0.0.0/8, ::
  kLoopback,     // 127/8, ::1
  kPrivate,      // 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10 (site-local)
  kLinkLocal,    // 169.254/16 (cloud metadata lives there), fe80::/10
  kShared,       // 100.64/10 (carrier-grade NAT)
  kMulticast,    // 224/4, ff00::/8
  kReserved,     // 240/4 (broadcast too), 192.0.0/24, 198.18/15, 100::/64
};

// IPv6 forms that carry an IPv4 address (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64
// 64:ff9b::/96, 6to4 2002::/16) are classed by that IPv4 address.
AddressClass classify_address(const IpAddress& address);
const char* address_class_name(AddressClass c);  // "loopback"

class HostAllowList {
 public:
  // Entries as --allowed-media-hosts takes them: "host", "host:port", "1.2.3.4", "[::1]:8080",
  // "::1"; nothing, with the reason in `error`, for a malformed one.
  static std::optional<HostAllowList> parse(const std::vector<std::string>& entries,
                                            std::string* error);
  // Whether `host` (a name or an IP literal, no brackets) is listed for `port`.
  bool allows(std::string_view host, int port) const;

 private:
  struct Entry {
    std::string host;  // lower-case name, or an IP literal in IpAddress::to_string form
    int port = 0;      // 0: any port
  };
  std::vector<Entry> entries_;
};

// Why a URL's host:port may not be reached at `address`, or nothing when it may.
std::optional<std::string> refusal_reason(const HostAllowList& allowed, std::string_view host,
                                          int port, const IpAddress& address);

}  // namespace sluice::api
