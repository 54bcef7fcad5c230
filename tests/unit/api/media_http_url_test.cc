// http(s) URLs as the media fetcher reads them, and redirect targets made absolute.
#include <gtest/gtest.h>

#include "api/media/http_url.h"

namespace sluice::api {
namespace {

TEST(HttpUrl, ParsesHostPortAndTarget) {
  struct Case {
    const char* url;
    bool https;
    const char* host;
    int port;
    const char* target;
  };
  for (const Case& c : {
           Case{"http://Example.COM/a/b.png?x=1#frag", false, "example.com", 80, "/a/b.png?x=1"},
           Case{"HTTPS://example.com", true, "example.com", 443, "/"},
           Case{"https://example.com:8443?q", true, "example.com", 8443, "/?q"},
           Case{"http://[::1]:8080/x", false, "::1", 8080, "/x"},
           Case{"http://[FE80::1]/x", false, "fe80::1", 80, "/x"},
           Case{"http://10.0.0.1:/x", false, "10.0.0.1", 80, "/x"},
           Case{"http://h/a b/\xc3\xa9.png", false, "h", 80, "/a%20b/%C3%A9.png"},
           Case{"http://h/a+b,c;d", false, "h", 80, "/a+b,c;d"},
           Case{"http://h/a/./b/../c?x=/../", false, "h", 80, "/a/c?x=/../"},
           Case{"http://h/a/..", false, "h", 80, "/"},
           Case{"http://h/../../x/", false, "h", 80, "/x/"},
           Case{"http://h/a/b/.", false, "h", 80, "/a/b/"},
           Case{"http://h//x", false, "h", 80, "//x"},
       }) {
    std::string error;
    const std::optional<HttpUrl> u = parse_http_url(c.url, &error);
    ASSERT_TRUE(u) << c.url << ": " << error;
    EXPECT_EQ(u->https, c.https) << c.url;
    EXPECT_EQ(u->host, c.host) << c.url;
    EXPECT_EQ(u->port, c.port) << c.url;
    EXPECT_EQ(u->target, c.target) << c.url;
  }
}

TEST(HttpUrl, RefusesMalformedUrls) {
  for (const char* url :
       {"ftp://h/x", "http:/h/x", "http:///x", "http://user:pw@h/x", "http://trusted@evil/x",
        "http://h:99999/x", "http://h:0/x", "http://h:8a/x", "http://ho st/x", "http://h%2e/x",
        "http://[::1/x", "http://[::1]x/y", "http://[nope]/x", "http://h/x\r\nHost: y",
        "http://h\\@evil/x"}) {
    std::string error;
    EXPECT_FALSE(parse_http_url(url, &error)) << url;
    EXPECT_FALSE(error.empty()) << url;
  }
}

TEST(HttpUrl, ResolvesRedirectLocations) {
  std::string error;
  const HttpUrl base = *parse_http_url("http://h:81/a/b.png?x=1", &error);
  EXPECT_EQ(resolve_location(base, "c.png"), "http://h:81/a/c.png");
  EXPECT_EQ(resolve_location(base, "../c.png"), "http://h:81/a/../c.png");
  EXPECT_EQ(resolve_location(base, "/d"), "http://h:81/d");
  EXPECT_EQ(resolve_location(base, "?y=2"), "http://h:81/a/b.png?y=2");
  EXPECT_EQ(resolve_location(base, "//other/p"), "http://other/p");
  EXPECT_EQ(resolve_location(base, "https://other/p"), "https://other/p");
  EXPECT_EQ(resolve_location(base, "file:///etc/passwd"), "file:///etc/passwd");
  const HttpUrl v6 = *parse_http_url("https://[::1]/x", &error);
  EXPECT_EQ(resolve_location(v6, "/y"), "https://[::1]/y");
}

}  // namespace
}  // namespace sluice::api
