// Decoding every fixture against Pillow's Image.open(f).convert("RGB"), the format sniffed from
// the bytes alone, and the error messages for what cannot be decoded.
#include "media/decode.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>

#include "media_test_util.h"

namespace sluice::media {
namespace {

using testing::decode_fixture;
using testing::golden;
using testing::read_bytes;

TEST(Decode, EveryFixtureMatchesPillowExactly) {
  ASSERT_GE(golden()["decode"].size(), 31u);
  for (const auto& g : golden()["decode"]) {
    const std::string name = g["file"];
    SCOPED_TRACE(name);
    const Image image = decode_fixture(name);
    ASSERT_EQ(image.width, g["width"].get<int>());
    ASSERT_EQ(image.height, g["height"].get<int>());
    ASSERT_EQ(image.rgb.size(), size_t{3} * image.width * image.height);
    if (g.contains("raw")) {
      const std::vector<uint8_t> want = read_bytes(g["raw"]);
      int max_diff = 0;
      for (size_t i = 0; i < want.size(); ++i) {
        max_diff = std::max(max_diff, std::abs(int{image.rgb[i]} - int{want[i]}));
      }
      EXPECT_EQ(max_diff, 0);
    }
    EXPECT_EQ(testing::sha256_hex(image.rgb.data(), image.rgb.size()), g["sha256"]);
  }
}

TEST(Decode, SniffsTheFormatFromMagicBytesOnly) {
  EXPECT_EQ(sniff_image_format(read_bytes("photo_37x23_444.jpg")), ImageFormat::kJpeg);
  EXPECT_EQ(sniff_image_format(read_bytes("photo_37x23.png")), ImageFormat::kPng);
  EXPECT_EQ(sniff_image_format(read_bytes("photo_37x23_lossless.webp")), ImageFormat::kWebp);
  EXPECT_EQ(sniff_image_format(read_bytes("animated_48x32.gif")), ImageFormat::kGif);
  const std::vector<uint8_t> riff_wave = {'R', 'I', 'F', 'F', 4, 0, 0, 0, 'W', 'A', 'V', 'E'};
  EXPECT_EQ(sniff_image_format(riff_wave), ImageFormat::kUnknown);
  EXPECT_EQ(sniff_image_format({}), ImageFormat::kUnknown);
  EXPECT_STREQ(image_format_name(ImageFormat::kWebp), "WebP");
}

TEST(Decode, UnknownBytesAreAnUnsupportedFormat) {
  const std::string text = "<svg xmlns='http://www.w3.org/2000/svg'/>";
  const Result<Image> r =
      decode_image({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "[image] unsupported image format (not JPEG, PNG, WebP or GIF)");
  EXPECT_EQ(decode_image({}).error(), r.error());
}

TEST(Decode, TruncatedFilesAreErrorsNotPartialImages) {
  for (const char* name :
       {"photo_640x427.jpg", "photo_640x427_progressive.jpg", "photo_640x427.png",
        "adam7_37x23.png", "photo_640x427_lossy.webp", "offset_frame_35x21.gif"}) {
    SCOPED_TRACE(name);
    std::vector<uint8_t> bytes = read_bytes(name);
    bytes.resize(bytes.size() * 2 / 3);
    const Result<Image> r = decode_image(bytes);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().rfind("[image] corrupt or truncated ", 0), 0u) << r.error();
  }
  std::vector<uint8_t> jpeg = read_bytes("photo_640x427.jpg");
  jpeg.resize(jpeg.size() / 2);
  EXPECT_EQ(decode_image(jpeg).error(),
            "[image] corrupt or truncated JPEG: Premature end of JPEG file");
}

// Every decoder reads the size from the header and refuses before it allocates the pixels.
TEST(Decode, LimitsAreCheckedFromTheHeader) {
  DecodeLimits small;
  small.max_pixels = 640 * 427 - 1;
  for (const char* name : {"photo_640x427.jpg", "photo_640x427.png", "photo_640x427_lossy.webp"}) {
    EXPECT_EQ(decode_image(read_bytes(name), small).error(),
              "[image] image is 640x427 pixels, over the limit of 273279 pixels")
        << name;
  }
  DecodeLimits narrow;
  narrow.max_side = 47;
  EXPECT_EQ(decode_image(read_bytes("animated_48x32.gif"), narrow).error(),
            "[image] image is 48x32 pixels, over the limit of 47 pixels a side");
  narrow.max_side = 48;
  EXPECT_TRUE(decode_image(read_bytes("animated_48x32.gif"), narrow).ok());
}

// A PNG header claiming 30000x30000 and nothing else: refused by size, not by the missing data.
TEST(Decode, DecompressionBombIsRefusedBeforeDecoding) {
  std::vector<uint8_t> png = read_bytes("photo_37x23.png");
  png.resize(33);           // signature + IHDR
  for (int i : {16, 20}) {  // width, height: big-endian 30000
    png[i] = 0, png[i + 1] = 0, png[i + 2] = 30000 >> 8, png[i + 3] = 30000 & 255;
  }
  const uLong crc = crc32(0, png.data() + 12, 17);  // over "IHDR" and its 13 bytes
  for (int i = 0; i < 4; ++i) png[29 + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
  EXPECT_EQ(decode_image(png).error(),
            "[image] image is 30000x30000 pixels, over the limit of 16384 pixels a side");
  DecodeLimits wide;
  wide.max_side = 1 << 20;
  EXPECT_EQ(decode_image(png, wide).error(),
            "[image] image is 30000x30000 pixels, over the limit of 40000000 pixels");
}

// The 28x16 frame at (3, 2) overhangs the 23x10 screen: the canvas grows to hold it, and the
// rest is the transparent index's colour (the pixels are checked against Pillow above).
TEST(Decode, GifFrameOverhangingTheScreenGrowsTheCanvas) {
  const Image image = decode_fixture("overhang_frame_31x18.gif");
  EXPECT_EQ(image.width, 31);
  EXPECT_EQ(image.height, 18);
  const auto pixel = [&](int x, int y) {
    const uint8_t* p = &image.rgb[(y * 31 + x) * 3];
    return std::vector<uint8_t>(p, p + 3);
  };
  EXPECT_EQ(pixel(0, 0), pixel(2, 17));   // both left of the frame
  EXPECT_EQ(pixel(0, 0), pixel(30, 1));   // above it
  EXPECT_NE(pixel(0, 0), pixel(30, 17));  // in it
}

}  // namespace
}  // namespace sluice::media
