// Inline images: base64 data URLs and Anthropic's base64 sources through one decoder and one cap.
#include <gtest/gtest.h>

#include <string>

#include "api/media/data_url.h"
#include "api/media/media_fetch.h"
#include "common/base64.h"

namespace sluice::api {
namespace {

const MediaBytes kPngHead = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0x00};

std::string as_base64(const MediaBytes& bytes) {
  return base64::encode(std::string(bytes.begin(), bytes.end()));
}

TEST(DataUrl, DecodesBase64WithAndWithoutAMediaType) {
  const std::string data = as_base64(kPngHead);
  for (const std::string& url : {"data:image/png;base64," + data, "data:;base64," + data,
                                 "DATA:image/png;charset=x;BASE64," + data}) {
    const MediaFetchResult r = decode_data_url(url, 1 << 20);
    ASSERT_TRUE(r.ok()) << url << ": " << r.error().message;
    EXPECT_EQ(r.bytes(), kPngHead) << url;
  }
}

TEST(DataUrl, SkipsLineBreaksInTheData) {
  const std::string plain = as_base64(kPngHead);  // "iVBORw0KGgoA"
  const std::string data = plain.substr(0, 4) + "\r\n" + plain.substr(4, 4) + " " + plain.substr(8);
  const MediaFetchResult r = decode_data_url("data:image/png;base64," + data, 1 << 20);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.bytes(), kPngHead);
}

TEST(DataUrl, RefusesWhatIsNotBase64) {
  struct Case {
    std::string url;
    MediaFetchErrorKind kind;
  };
  for (const Case& c : std::vector<Case>{
           {"data:image/png;base64,@@@@", MediaFetchErrorKind::kBadData},
           {"data:image/png;base64,iVBORw0KGgoA=", MediaFetchErrorKind::kBadData},  // length
           {"data:image/png;base64,iVBO-w0_Ggo=", MediaFetchErrorKind::kBadData},   // url-safe
           {"data:image/png;base64,", MediaFetchErrorKind::kBadData},
           {"data:image/png,%89PNG", MediaFetchErrorKind::kBadUrl},  // not base64
           {"data:image/png;base64", MediaFetchErrorKind::kBadUrl},  // no comma
       }) {
    const MediaFetchResult r = decode_data_url(c.url, 1 << 20);
    ASSERT_FALSE(r.ok()) << c.url;
    EXPECT_EQ(r.error().kind, c.kind) << c.url << ": " << r.error().message;
    EXPECT_EQ(r.error().message.rfind("fetching data:image/png", 0), 0u) << r.error().message;
  }
}

TEST(DataUrl, CapsTheDecodedBytes) {
  const std::string url = "data:image/png;base64," + as_base64(kPngHead);  // 9 bytes
  EXPECT_TRUE(decode_data_url(url, kPngHead.size()).ok());
  const MediaFetchResult r = decode_data_url(url, kPngHead.size() - 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, MediaFetchErrorKind::kTooLarge);
  EXPECT_NE(r.error().message.find("over the 8-byte limit"), std::string::npos)
      << r.error().message;
  // Far over the cap: refused from the text's length (the message still names the URL, short).
  const std::string huge = "data:image/png;base64," + std::string(4 << 20, 'A');
  const MediaFetchResult h = decode_data_url(huge, 1000);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().kind, MediaFetchErrorKind::kTooLarge);
  EXPECT_LT(h.error().message.size(), 200u);
}

TEST(DataUrl, AnthropicBase64SourceSharesTheDecoder) {
  const MediaFetchResult ok = decode_base64_media(as_base64(kPngHead), 1 << 20, "image source");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok.bytes(), kPngHead);
  const MediaFetchResult bad = decode_base64_media("not base64!", 1 << 20, "image source");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, MediaFetchErrorKind::kBadData);
  EXPECT_EQ(bad.error().message, "image source: the image data is not valid base64");
  const MediaFetchResult big = decode_base64_media(as_base64(kPngHead), 4, "image source");
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().kind, MediaFetchErrorKind::kTooLarge);
}

TEST(MediaFetch, DispatchesDataUrlsAndRefusesOtherSchemes) {
  MediaFetchOptions options;
  const MediaFetchResult r = fetch_media("data:image/png;base64," + as_base64(kPngHead), options);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.bytes(), kPngHead);
  for (const char* url : {"ftp://example.com/a.png", "gopher://x", "javascript:alert(1)",
                          "example.com/a.png", "//example.com/a.png", ""}) {
    const MediaFetchResult bad = fetch_media(url, options);
    ASSERT_FALSE(bad.ok()) << url;
    EXPECT_EQ(bad.error().kind, MediaFetchErrorKind::kBadUrl) << url;
  }
  EXPECT_EQ(fetch_media("ftp://example.com/a.png", options).error().message,
            "fetching ftp://example.com/a.png: unsupported URL scheme 'ftp' (expected http, "
            "https, data or file)");
}

TEST(MediaFetch, ErrorsBecomeA400InBothProtocols) {
  const MediaFetchResult r = fetch_media("data:image/png;base64,@@@@", MediaFetchOptions{});
  ASSERT_FALSE(r.ok());
  const ApiError e = media_api_error(r.error(), "messages[0].content[1].image_url");
  EXPECT_EQ(e.status(), 400);
  EXPECT_EQ(error_body(e, Protocol::kOpenAI),
            R"({"error":{"message":"fetching data:image/png;base64,@@@@: the image data is not )"
            R"(valid base64","type":"invalid_request_error","param":)"
            R"("messages[0].content[1].image_url","code":null}})");
  EXPECT_EQ(error_body(e, Protocol::kAnthropic),
            R"({"type":"error","error":{"type":"invalid_request_error","message":"fetching )"
            R"(data:image/png;base64,@@@@: the image data is not valid base64"}})");
}

TEST(MediaFetch, MessagesShortenLongUrls) {
  const std::string url = "https://example.com/" + std::string(5000, 'a') + "\n.png";
  EXPECT_EQ(url_for_message(url, 24), "https://example.com/aaaa...");
  EXPECT_EQ(url_for_message("http://x/a\nb"), "http://x/a?b");
}

}  // namespace
}  // namespace sluice::api
