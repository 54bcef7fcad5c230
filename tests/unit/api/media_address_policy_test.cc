// The SSRF guard's tables: how each address is classed (IPv4, IPv6 and the IPv6 forms that carry
// an IPv4 address), how --allowed-media-hosts entries parse and match, and numeric host forms.
#include <gtest/gtest.h>

#include <chrono>

#include "api/media/address_policy.h"
#include "api/media/host_resolver.h"

namespace sluice::api {
namespace {

struct ClassCase {
  const char* address;
  AddressClass expected;
};

TEST(AddressPolicy, ClassesAddresses) {
  using C = AddressClass;
  const ClassCase cases[] = {
      {"8.8.8.8", C::kPublic},
      {"1.1.1.1", C::kPublic},
      {"172.32.0.1", C::kPublic},
      {"100.128.0.1", C::kPublic},
      {"169.253.255.255", C::kPublic},
      {"223.255.255.255", C::kPublic},
      {"0.0.0.0", C::kUnspecified},
      {"0.1.2.3", C::kUnspecified},
      {"127.0.0.1", C::kLoopback},
      {"127.255.255.254", C::kLoopback},
      {"10.0.0.1", C::kPrivate},
      {"172.16.0.1", C::kPrivate},
      {"172.31.255.255", C::kPrivate},
      {"192.168.1.1", C::kPrivate},
      {"169.254.169.254", C::kLinkLocal},
      {"100.64.0.1", C::kShared},
      {"100.127.255.255", C::kShared},
      {"224.0.0.1", C::kMulticast},
      {"239.255.255.250", C::kMulticast},
      {"240.0.0.1", C::kReserved},
      {"255.255.255.255", C::kReserved},
      {"198.18.0.1", C::kReserved},
      {"2606:4700:4700::1111", C::kPublic},
      {"2001:4860:4860::8888", C::kPublic},
      {"::", C::kUnspecified},
      {"::1", C::kLoopback},
      {"fc00::1", C::kPrivate},
      {"fd12:3456:789a::1", C::kPrivate},
      {"fec0::1", C::kPrivate},
      {"fe80::1", C::kLinkLocal},
      {"febf::1", C::kLinkLocal},
      {"ff02::1", C::kMulticast},
      {"100::1", C::kReserved},
      // IPv6 carrying IPv4: mapped, compatible, NAT64 and 6to4 are classed by the IPv4 inside.
      {"::ffff:127.0.0.1", C::kLoopback},
      {"::ffff:7f00:1", C::kLoopback},
      {"::ffff:0.0.0.0", C::kUnspecified},
      {"::ffff:10.0.0.1", C::kPrivate},
      {"::ffff:169.254.169.254", C::kLinkLocal},
      {"::ffff:100.64.0.1", C::kShared},
      {"::ffff:8.8.8.8", C::kPublic},
      {"::127.0.0.1", C::kLoopback},
      {"64:ff9b::a9fe:a9fe", C::kLinkLocal},
      {"64:ff9b::808:808", C::kPublic},
      {"2002:7f00:1::1", C::kLoopback},
      {"2002:c0a8:101::1", C::kPrivate},
      {"2002:808:808::1", C::kPublic},
  };
  for (const ClassCase& c : cases) {
    const std::optional<IpAddress> ip = IpAddress::parse(c.address);
    ASSERT_TRUE(ip) << c.address;
    EXPECT_EQ(classify_address(*ip), c.expected)
        << c.address << " classed " << address_class_name(classify_address(*ip));
  }
}

TEST(AddressPolicy, ParsesOnlyNumericAddresses) {
  EXPECT_FALSE(IpAddress::parse("localhost"));
  EXPECT_FALSE(IpAddress::parse("[::1]"));
  EXPECT_FALSE(IpAddress::parse("127.1"));
  EXPECT_EQ(IpAddress::parse("0:0:0:0:0:ffff:7f00:1")->to_string(), "::ffff:127.0.0.1");
}

TEST(AddressPolicy, NumericHostFormsResolveWithoutALookup) {
  // inet_aton's forms: what a URL host like "2130706433" reaches, and so what gets checked.
  const auto soon = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  for (const char* host : {"2130706433", "0x7f.1", "127.1", "0177.0.0.1"}) {
    const ResolvedHost r = resolve_host(host, soon);
    ASSERT_EQ(r.addresses.size(), 1u) << host << ": " << r.error;
    EXPECT_EQ(r.addresses[0].to_string(), "127.0.0.1") << host;
  }
  const ResolvedHost v6 = resolve_host("::ffff:10.0.0.1", soon);
  ASSERT_EQ(v6.addresses.size(), 1u);
  EXPECT_EQ(classify_address(v6.addresses[0]), AddressClass::kPrivate);
}

HostAllowList allow(const std::vector<std::string>& entries) {
  std::string error;
  std::optional<HostAllowList> list = HostAllowList::parse(entries, &error);
  EXPECT_TRUE(list) << error;
  return list.value_or(HostAllowList{});
}

TEST(AddressPolicy, AllowListMatchesHostsAndPorts) {
  const HostAllowList list =
      allow({"localhost:8080", " Images.Internal ", "10.0.0.5", "[::1]:9000", "fd00::7", ""});
  EXPECT_TRUE(list.allows("localhost", 8080));
  EXPECT_FALSE(list.allows("localhost", 8081));
  EXPECT_TRUE(list.allows("images.internal", 80));
  EXPECT_TRUE(list.allows("IMAGES.internal", 443));
  EXPECT_TRUE(list.allows("10.0.0.5", 1234));
  EXPECT_FALSE(list.allows("10.0.0.6", 1234));
  EXPECT_TRUE(list.allows("::1", 9000));
  EXPECT_TRUE(list.allows("0:0::1", 9000));
  EXPECT_FALSE(list.allows("::1", 9001));
  EXPECT_TRUE(list.allows("fd00:0::7", 443));
  EXPECT_FALSE(list.allows("127.0.0.1", 8080));  // a name's address is not the name
}

TEST(AddressPolicy, AllowListRefusesMalformedEntries) {
  for (const char* bad :
       {"host:abc", "host:0", "host:99999", "host:", "[::1", "[zz]:80", "[::1]x", ":80", "a:b:c"}) {
    std::string error;
    EXPECT_FALSE(HostAllowList::parse({bad}, &error)) << bad;
    EXPECT_NE(error.find(bad), std::string::npos) << error;
  }
}

TEST(AddressPolicy, RefusesPrivateAddressesUnlessListed) {
  const IpAddress loopback = *IpAddress::parse("127.0.0.1");
  const IpAddress metadata = *IpAddress::parse("169.254.169.254");
  const IpAddress google = *IpAddress::parse("8.8.8.8");
  const HostAllowList none;
  EXPECT_FALSE(refusal_reason(none, "dns.google", 443, google));
  EXPECT_EQ(refusal_reason(none, "127.0.0.1", 80, loopback),
            "127.0.0.1, a loopback address (list the host in --allowed-media-hosts to allow it)");
  EXPECT_EQ(refusal_reason(none, "evil.example", 80, metadata),
            "evil.example resolves to 169.254.169.254, a link-local address (list the host in "
            "--allowed-media-hosts to allow it)");
  // Listed by name (this port), or the address itself listed.
  EXPECT_FALSE(refusal_reason(allow({"localhost:8000"}), "localhost", 8000, loopback));
  EXPECT_TRUE(refusal_reason(allow({"localhost:8000"}), "localhost", 8001, loopback));
  EXPECT_FALSE(refusal_reason(allow({"127.0.0.1"}), "localhost", 8000, loopback));
  EXPECT_TRUE(refusal_reason(allow({"localhost"}), "127.0.0.1", 8000, loopback));
}

}  // namespace
}  // namespace sluice::api
