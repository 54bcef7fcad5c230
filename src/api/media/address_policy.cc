#include "api/media/address_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace sluice::api {

namespace {

// True when the first `bits` bits of `a` and `prefix` agree.
bool in_prefix(const uint8_t* a, std::initializer_list<uint8_t> prefix, int bits) {
  const uint8_t* p = prefix.begin();
  for (int i = 0; bits > 0; ++i, bits -= 8) {
    const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((a[i] & mask) != (p[i] & mask)) return false;
  }
  return true;
}

AddressClass classify_v4(const uint8_t* a) {
  if (a[0] == 0) return AddressClass::kUnspecified;
  if (a[0] == 127) return AddressClass::kLoopback;
  if (a[0] == 10 || in_prefix(a, {172, 16}, 12) || in_prefix(a, {192, 168}, 16))
    return AddressClass::kPrivate;
  if (in_prefix(a, {169, 254}, 16)) return AddressClass::kLinkLocal;
  if (in_prefix(a, {100, 64}, 10)) return AddressClass::kShared;
  if (in_prefix(a, {224}, 4)) return AddressClass::kMulticast;
  if (in_prefix(a, {240}, 4) || in_prefix(a, {192, 0, 0}, 24) || in_prefix(a, {198, 18}, 15))
    return AddressClass::kReserved;
  return AddressClass::kPublic;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// An IP literal in its one printed form; a name lower-cased.
std::string normalized_host(std::string_view host) {
  const std::optional<IpAddress> ip = IpAddress::parse(host);
  return ip ? ip->to_string() : lower(host);
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  const std::string s(text);
  IpAddress out;
  if (inet_pton(AF_INET, s.c_str(), out.bytes.data()) == 1) return out;
  out.v6 = true;
  if (inet_pton(AF_INET6, s.c_str(), out.bytes.data()) == 1) return out;
  return std::nullopt;
}

IpAddress IpAddress::from_sockaddr(const sockaddr& address) {
  IpAddress out;
  if (address.sa_family == AF_INET6) {
    out.v6 = true;
    std::memcpy(out.bytes.data(), &reinterpret_cast<const sockaddr_in6&>(address).sin6_addr, 16);
  } else {
    std::memcpy(out.bytes.data(), &reinterpret_cast<const sockaddr_in&>(address).sin_addr, 4);
  }
  return out;
}

std::string IpAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), text, sizeof(text));
  return text;
}

AddressClass classify_address(const IpAddress& address) {
  const uint8_t* a = address.bytes.data();
  if (!address.v6) return classify_v4(a);
  const bool first_80_zero = std::all_of(a, a + 10, [](uint8_t b) { return b == 0; });
  if (first_80_zero && a[10] == 0 && a[11] == 0) {  // ::, ::1, ::a.b.c.d (compatible)
    const bool zero_96_to_120 = a[12] == 0 && a[13] == 0 && a[14] == 0;
    if (zero_96_to_120 && a[15] == 0) return AddressClass::kUnspecified;
    if (zero_96_to_120 && a[15] == 1) return AddressClass::kLoopback;
    return classify_v4(a + 12);
  }
  if (first_80_zero && a[10] == 0xff && a[11] == 0xff) return classify_v4(a + 12);  // mapped
  if (in_prefix(a, {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0}, 96))           // NAT64
    return classify_v4(a + 12);
  if (in_prefix(a, {0x20, 0x02}, 16)) return classify_v4(a + 2);  // 6to4
  if (in_prefix(a, {0xfc}, 7) || in_prefix(a, {0xfe, 0xc0}, 10)) return AddressClass::kPrivate;
  if (in_prefix(a, {0xfe, 0x80}, 10)) return AddressClass::kLinkLocal;
  if (a[0] == 0xff) return AddressClass::kMulticast;
  if (in_prefix(a, {0x01, 0x00, 0, 0, 0, 0, 0, 0}, 64)) return AddressClass::kReserved;
  return AddressClass::kPublic;
}

const char* address_class_name(AddressClass c) {
  switch (c) {
    case AddressClass::kPublic:
      return "public";
    case AddressClass::kUnspecified:
      return "unspecified";
    case AddressClass::kLoopback:
      return "loopback";
    case AddressClass::kPrivate:
      return "private";
    case AddressClass::kLinkLocal:
      return "link-local";
    case AddressClass::kShared:
      return "shared (carrier-grade NAT)";
    case AddressClass::kMulticast:
      return "multicast";
    case AddressClass::kReserved:
      return "reserved";
  }
  return "unknown";
}

std::optional<HostAllowList> HostAllowList::parse(const std::vector<std::string>& entries,
                                                  std::string* error) {
  HostAllowList out;
  for (const std::string& raw : entries) {
    std::string_view text = raw;
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
      text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
      text.remove_suffix(1);
    if (text.empty()) continue;  // "a,,b" or a trailing comma
    std::string_view host = text, port;
    if (text[0] == '[') {
      const size_t close = text.find(']');
      const bool tail_ok =
          close != std::string_view::npos && (close + 1 == text.size() || text[close + 1] == ':');
      if (!tail_ok || !IpAddress::parse(text.substr(1, close - 1))) {
        *error = "allowed media host '" + raw + "': expected [IPv6] or [IPv6]:port";
        return std::nullopt;
      }
      host = text.substr(1, close - 1);
      if (close + 1 < text.size()) port = text.substr(close + 2);
    } else if (std::count(text.begin(), text.end(), ':') == 1) {
      host = text.substr(0, text.find(':'));
      port = text.substr(text.find(':') + 1);
    } else if (text.find(':') != std::string_view::npos && !IpAddress::parse(text)) {
      *error = "allowed media host '" + raw + "': not a host, host:port or IPv6 address";
      return std::nullopt;
    }
    Entry e{normalized_host(host), 0};
    if (!port.empty() || text.back() == ':') {
      const bool digits =
          !port.empty() && port.size() <= 5 &&
          std::all_of(port.begin(), port.end(), [](char c) { return std::isdigit(c); });
      e.port = digits ? std::stoi(std::string(port)) : 0;
      if (e.port < 1 || e.port > 65535) {
        *error = "allowed media host '" + raw + "': invalid port";
        return std::nullopt;
      }
    }
    if (e.host.empty()) {
      *error = "allowed media host '" + raw + "': no host";
      return std::nullopt;
    }
    out.entries_.push_back(std::move(e));
  }
  return out;
}

bool HostAllowList::allows(std::string_view host, int port) const {
  const std::string h = normalized_host(host);
  return std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) {
    return e.host == h && (e.port == 0 || e.port == port);
  });
}

std::optional<std::string> refusal_reason(const HostAllowList& allowed, std::string_view host,
                                          int port, const IpAddress& address) {
  const AddressClass c = classify_address(address);
  if (c == AddressClass::kPublic || allowed.allows(host, port) ||
      allowed.allows(address.to_string(), port))
    return std::nullopt;
  const std::string ip = address.to_string();
  const std::string via = normalized_host(host) == ip ? "" : std::string(host) + " resolves to ";
  return via + ip + ", a " + address_class_name(c) +
         " address (list the host in --allowed-media-hosts to allow it)";
}

}  // namespace sluice::api
