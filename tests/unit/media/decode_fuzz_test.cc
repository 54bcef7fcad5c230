// Arbitrary bytes never crash a decoder: every fixture cut at many lengths and with random bytes
// changed (a fixed seed) decodes to an error or to a whole image. Run it under the ASan build.
#include <gtest/gtest.h>

#include <random>

#include "media/decode.h"
#include "media_test_util.h"

namespace sluice::media {
namespace {

void expect_error_or_image(std::span<const uint8_t> bytes, const std::string& what) {
  const Result<Image> r = decode_image(bytes);
  if (!r.ok()) {
    EXPECT_EQ(r.error().rfind("[image] ", 0), 0u) << what << ": " << r.error();
    return;
  }
  EXPECT_GT(r->width, 0) << what;
  EXPECT_GT(r->height, 0) << what;
  EXPECT_EQ(r->rgb.size(), size_t{3} * r->width * r->height) << what;
}

std::vector<std::string> fixture_names() {
  std::vector<std::string> names;
  for (const auto& g : testing::golden()["decode"]) names.push_back(g["file"]);
  return names;
}

TEST(DecodeFuzz, TruncationsAreErrorsOrImages) {
  for (const std::string& name : fixture_names()) {
    const std::vector<uint8_t> bytes = testing::read_bytes(name);
    // Every length through the headers, then ~60 lengths spread over the rest.
    const size_t step = std::max<size_t>(1, bytes.size() / 60);
    for (size_t n = 0; n < bytes.size(); n += n < 256 ? 1 : step) {
      const std::string what = name + " cut at " + std::to_string(n);
      expect_error_or_image({bytes.data(), n}, what);
      // Pixels missing is an error; only the end (a GIF's later frames, a JPEG's EOI marker, a
      // PNG's IEND chunk) may go unread.
      if (n < bytes.size() * 9 / 10 && name != "animated_48x32.gif") {
        EXPECT_FALSE(decode_image({bytes.data(), n}).ok()) << what;
      }
    }
  }
}

TEST(DecodeFuzz, RandomByteFlipsAreErrorsOrImages) {
  std::mt19937 rng(20240537);
  for (const std::string& name : fixture_names()) {
    const std::vector<uint8_t> original = testing::read_bytes(name);
    for (int trial = 0; trial < 100; ++trial) {
      std::vector<uint8_t> bytes = original;
      const int num_flips = 1 + static_cast<int>(rng() % 8);
      for (int i = 0; i < num_flips; ++i) {
        // Half the flips land in the first 64 bytes, where the headers are.
        const size_t span = (i % 2 == 0) ? std::min<size_t>(64, bytes.size()) : bytes.size();
        bytes[rng() % span] ^= static_cast<uint8_t>(1 + rng() % 255);
      }
      expect_error_or_image(bytes, name + " trial " + std::to_string(trial));
    }
  }
}

}  // namespace
}  // namespace sluice::media
