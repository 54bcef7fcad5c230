// Fetching images over HTTP from an in-process server on 127.0.0.1 (no other network): bodies,
// status errors, the deadline (a silent server and a slow drip), redirects (count, relative,
// into a private address), the size cap with and without Content-Length, and the SSRF guard
// (the test server is reachable only because the tests allow-list it).
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "api/media/media_fetch.h"
#include "api/media/pinned_get.h"

namespace sluice::api {
namespace {

using Clock = std::chrono::steady_clock;
using Kind = MediaFetchErrorKind;

MediaBytes image_bytes() {  // a PNG signature and 4 KiB of a pattern
  MediaBytes out = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
  for (int i = 0; i < 4096; ++i) out.push_back(static_cast<uint8_t>(i * 7));
  return out;
}

class ImageServer {
 public:
  ImageServer() {
    const MediaBytes image = image_bytes();
    const std::string body(image.begin(), image.end());
    server_.Get("/image.png", [body](const httplib::Request&, httplib::Response& res) {
      res.set_content(body, "image/png");
    });
    server_.Get("/missing.png", [](const httplib::Request&, httplib::Response& res) {
      res.status = 404;
      res.set_content("not here", "text/plain");
    });
    server_.Get("/host", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.get_header_value("Host"), "text/plain");
    });
    server_.Get(R"(/redirect/(\d+))", [](const httplib::Request& req, httplib::Response& res) {
      const int left = std::stoi(req.matches[1]);
      res.status = 302;
      res.set_header("Location",
                     left == 0 ? "/image.png" : "/redirect/" + std::to_string(left - 1));
    });
    server_.Get("/relative/go", [](const httplib::Request&, httplib::Response& res) {
      res.status = 301;
      res.set_header("Location", "../image.png");
    });
    server_.Get("/to-loopback", [this](const httplib::Request&, httplib::Response& res) {
      res.status = 307;
      res.set_header("Location", "http://127.0.0.1:" + std::to_string(port_) + "/image.png");
    });
    server_.Get("/to-file", [](const httplib::Request&, httplib::Response& res) {
      res.status = 302;
      res.set_header("Location", "file:///etc/passwd");
    });
    server_.Get("/slow", [this](const httplib::Request&, httplib::Response& res) {
      wait_released(5.0);
      res.set_content("late", "image/png");
    });
    server_.Get("/drip", [this](const httplib::Request&, httplib::Response& res) {
      // A byte every 50 ms for 3 s at most (so a fetch without a deadline fails, not hangs).
      res.set_chunked_content_provider("image/png", [this](size_t sent, httplib::DataSink& sink) {
        if (released_) return false;
        if (sent == 60) {
          sink.done();
          return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return sink.write("x", 1);
      });
    });
    server_.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(1 << 20, 'b'), "image/png");
    });
    server_.Get("/endless", [this](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("image/png", [this](size_t, httplib::DataSink& sink) {
        static const std::string chunk(64 << 10, 'e');
        return !released_ && sink.write(chunk.data(), chunk.size());
      });
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~ImageServer() {
    released_ = true;
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::string url(const std::string& path, const std::string& host = "127.0.0.1") const {
    return "http://" + host + ":" + std::to_string(port_) + path;
  }
  void release() { released_ = true; }

 private:
  void wait_released(double seconds) {
    const auto until = Clock::now() + std::chrono::duration<double>(seconds);
    while (!released_ && Clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  httplib::Server server_;
  int port_ = 0;
  std::atomic<bool> released_{false};
  std::thread thread_;
};

MediaFetchOptions allowing(const std::vector<std::string>& hosts) {
  MediaFetchOptions o;
  std::string error;
  o.allowed_hosts = *HostAllowList::parse(hosts, &error);
  o.timeout_s = 5;
  return o;
}

MediaFetchOptions allowing_server(const ImageServer& s) {
  return allowing({"127.0.0.1:" + std::to_string(s.port())});
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

TEST(MediaHttpFetch, FetchesAnAllowListedImage) {
  ImageServer s;
  const MediaFetchResult r = fetch_media(s.url("/image.png"), allowing_server(s));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.bytes(), image_bytes());
}

TEST(MediaHttpFetch, RefusesTheSameUrlWithoutTheAllowList) {
  ImageServer s;
  for (const std::string& url :
       {s.url("/image.png"), s.url("/image.png", "localhost"), s.url("/image.png", "2130706433"),
        s.url("/image.png", "[::ffff:127.0.0.1]")}) {
    const MediaFetchResult r = fetch_media(url, MediaFetchOptions{});
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.error().kind, Kind::kBlockedAddress) << r.error().message;
    EXPECT_NE(r.error().message.find("a loopback address"), std::string::npos) << r.error().message;
  }
  // Listed for another port only: still refused.
  const MediaFetchResult other =
      fetch_media(s.url("/image.png"), allowing({"127.0.0.1:" + std::to_string(s.port() + 1)}));
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().kind, Kind::kBlockedAddress);
}

TEST(MediaHttpFetch, NamesTheStatusOfAFailedAnswer) {
  ImageServer s;
  const MediaFetchResult r = fetch_media(s.url("/missing.png"), allowing_server(s));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Kind::kHttpStatus);
  EXPECT_EQ(r.error().message, "fetching " + s.url("/missing.png") + ": HTTP 404");
}

TEST(MediaHttpFetch, ConnectsToThePinnedAddressWithoutALookup) {
  ImageServer s;
  // ".invalid" never resolves (RFC 6761): only the pinned address can reach the server.
  HttpUrl url{false, "sluice-pin.invalid", s.port(), "/host"};
  const PinnedGetResult r = pinned_get(url, *IpAddress::parse("127.0.0.1"), 1 << 20,
                                       Clock::now() + std::chrono::seconds(5));
  ASSERT_EQ(r.outcome, PinnedGetResult::Outcome::kBody) << r.error;
  EXPECT_EQ(std::string(r.body.begin(), r.body.end()),
            "sluice-pin.invalid:" + std::to_string(s.port()));
}

TEST(MediaHttpFetch, TimesOutOnASilentServer) {
  ImageServer s;
  MediaFetchOptions o = allowing_server(s);
  o.timeout_s = 0.3;
  const Clock::time_point start = Clock::now();
  const MediaFetchResult r = fetch_media(s.url("/slow"), o);
  const double took = seconds_since(start);
  s.release();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Kind::kTimeout) << r.error().message;
  EXPECT_NE(r.error().message.find("no answer within 0.3 s"), std::string::npos);
  EXPECT_GE(took, 0.29);
  EXPECT_LT(took, 1.0);  // reads alone would wait a second longer
}

TEST(MediaHttpFetch, TheDeadlineCoversASlowDripOfBytes) {
  // Each byte comes well within any per-read timeout; only a total deadline stops this.
  ImageServer s;
  MediaFetchOptions o = allowing_server(s);
  o.timeout_s = 0.4;
  const Clock::time_point start = Clock::now();
  const MediaFetchResult r = fetch_media(s.url("/drip"), o);
  const double took = seconds_since(start);
  s.release();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Kind::kTimeout) << r.error().message;
  EXPECT_LT(took, 1.5);
}

TEST(MediaHttpFetch, FollowsRedirectsUpToTheLimit) {
  ImageServer s;
  MediaFetchOptions o = allowing_server(s);
  const MediaFetchResult three = fetch_media(s.url("/redirect/2"), o);  // 3 redirects
  ASSERT_TRUE(three.ok()) << three.error().message;
  EXPECT_EQ(three.bytes(), image_bytes());
  const MediaFetchResult four = fetch_media(s.url("/redirect/3"), o);
  ASSERT_FALSE(four.ok());
  EXPECT_EQ(four.error().kind, Kind::kTooManyRedirects);
  EXPECT_EQ(four.error().message, "fetching " + s.url("/redirect/3") + ": redirected to " +
                                      s.url("/redirect/0") + ": more than 3 redirects");
  o.max_redirects = 0;
  const MediaFetchResult none = fetch_media(s.url("/redirect/0"), o);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind, Kind::kTooManyRedirects);
}

TEST(MediaHttpFetch, FollowsARelativeRedirect) {
  ImageServer s;
  const MediaFetchResult r = fetch_media(s.url("/relative/go"), allowing_server(s));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.bytes(), image_bytes());
}

TEST(MediaHttpFetch, ChecksEveryRedirectHop) {
  ImageServer s;
  // "localhost" is listed, so its first hop is fetched; the redirect names 127.0.0.1, which is
  // not listed, and is refused although it is the same server.
  const MediaFetchOptions o = allowing({"localhost:" + std::to_string(s.port())});
  const MediaFetchResult direct = fetch_media(s.url("/image.png", "localhost"), o);
  ASSERT_TRUE(direct.ok()) << direct.error().message;
  const MediaFetchResult r = fetch_media(s.url("/to-loopback", "localhost"), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Kind::kBlockedAddress);
  EXPECT_EQ(r.error().message, "fetching " + s.url("/to-loopback", "localhost") +
                                   ": redirected to " + s.url("/image.png") +
                                   ": 127.0.0.1, a loopback address (list the host in "
                                   "--allowed-media-hosts to allow it)");
  const MediaFetchResult file = fetch_media(s.url("/to-file"), allowing_server(s));
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().kind, Kind::kBadUrl);
}

TEST(MediaHttpFetch, CapsTheBodyWithContentLength) {
  ImageServer s;
  MediaFetchOptions o = allowing_server(s);
  o.max_bytes = image_bytes().size();
  EXPECT_TRUE(fetch_media(s.url("/image.png"), o).ok());
  o.max_bytes = image_bytes().size() - 1;
  const MediaFetchResult r = fetch_media(s.url("/image.png"), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Kind::kTooLarge);
  EXPECT_EQ(r.error().message, "fetching " + s.url("/image.png") + ": the image is over the " +
                                   std::to_string(o.max_bytes) + "-byte limit");
  o.max_bytes = 100 << 10;
  EXPECT_EQ(fetch_media(s.url("/big"), o).error().kind, Kind::kTooLarge);
}

TEST(MediaHttpFetch, CapsAChunkedBodyWithoutContentLength) {
  // The body never ends: only stopping at the cap ends this fetch before its deadline.
  ImageServer s;
  MediaFetchOptions o = allowing_server(s);
  o.max_bytes = 100 << 10;
  o.timeout_s = 5;
  const Clock::time_point start = Clock::now();
  const MediaFetchResult r = fetch_media(s.url("/endless"), o);
  const double took = seconds_since(start);
  s.release();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Kind::kTooLarge) << r.error().message;
  EXPECT_LT(took, 2.0);
}

TEST(MediaHttpFetch, TlsToAPlainServerIsANetworkError) {
  ImageServer s;
  const std::string url = "https://127.0.0.1:" + std::to_string(s.port()) + "/image.png";
  const MediaFetchResult r = fetch_media(url, allowing_server(s));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Kind::kNetwork) << r.error().message;
}

TEST(MediaHttpFetch, AClosedPortIsANetworkError) {
  int port = 0;
  {
    ImageServer s;
    port = s.port();
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/image.png";
  const MediaFetchResult r = fetch_media(url, allowing({"127.0.0.1"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Kind::kNetwork) << r.error().message;
  EXPECT_NE(r.error().message.find("cannot connect to 127.0.0.1"), std::string::npos);
}

}  // namespace
}  // namespace sluice::api
