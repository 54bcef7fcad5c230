// Resizing against Pillow's Image.resize bytes (NEAREST, BILINEAR, BICUBIC) on up-, down- and
// mixed scales, including Gemma 3's 896x896 and Qwen2-VL's multiple-of-28 sizes.
#include "media/resize.h"

#include <gtest/gtest.h>

#include <map>

#include "media_test_util.h"

namespace sluice::media {
namespace {

Resample resample_named(const std::string& name) {
  static const std::map<std::string, Resample> kByName = {{"nearest", Resample::kNearest},
                                                          {"bilinear", Resample::kBilinear},
                                                          {"bicubic", Resample::kBicubic}};
  return kByName.at(name);
}

TEST(Resize, MatchesPillowBitForBit) {
  ASSERT_GE(testing::golden()["resize"].size(), 27u);
  std::map<std::string, Image> sources;
  for (const auto& g : testing::golden()["resize"]) {
    const std::string file = g["file"], mode = g["resample"];
    const int width = g["width"], height = g["height"];
    SCOPED_TRACE(file + " -> " + std::to_string(width) + "x" + std::to_string(height) + " " + mode);
    if (!sources.count(file)) sources[file] = testing::decode_fixture(file);
    const Image out = resize(sources[file], width, height, resample_named(mode));
    ASSERT_EQ(out.width, width);
    ASSERT_EQ(out.height, height);
    ASSERT_EQ(out.rgb.size(), size_t{3} * width * height);
    if (g.contains("raw")) {
      const std::vector<uint8_t> want = testing::read_bytes(g["raw"]);
      size_t num_diff = 0;
      for (size_t i = 0; i < want.size(); ++i) num_diff += out.rgb[i] != want[i];
      EXPECT_EQ(num_diff, 0u);
    }
    EXPECT_EQ(testing::sha256_hex(out.rgb.data(), out.rgb.size()), g["sha256"]);
  }
}

// Marsaglia's xorshift32, top byte of each step (as make_media_fixtures.py makes them).
std::vector<uint8_t> xorshift_bytes(uint32_t seed, size_t n) {
  std::vector<uint8_t> out(n);
  for (uint8_t& b : out) {
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    b = static_cast<uint8_t>(seed >> 24);
  }
  return out;
}

TEST(Resize, RandomSizesOfNoiseMatchPillow) {
  const auto& cases = testing::golden()["random_resize"];
  ASSERT_GE(cases.size(), 100u);
  for (const auto& g : cases) {
    const uint32_t seed = g["seed"];
    const std::vector<uint8_t> dims = xorshift_bytes(seed ^ 0x5EED, 4);
    Image image{1 + dims[0] % 48, 1 + dims[1] % 48, {}};
    const int width = 1 + dims[2] % 64, height = 1 + dims[3] % 64;
    ASSERT_EQ(image.width, g["width"].get<int>());
    ASSERT_EQ(height, g["to_height"].get<int>());
    image.rgb = xorshift_bytes(seed, size_t{3} * image.width * image.height);
    for (const auto& [mode, sha] : g["sha256"].items()) {
      const Image out = resize(image, width, height, resample_named(mode));
      EXPECT_EQ(testing::sha256_hex(out.rgb.data(), out.rgb.size()), sha)
          << image.width << "x" << image.height << " -> " << width << "x" << height << " " << mode;
    }
  }
}

TEST(Resize, SameSizeIsACopy) {
  const Image image = testing::decode_fixture("photo_33x17.png");
  for (Resample r : {Resample::kNearest, Resample::kBilinear, Resample::kBicubic}) {
    EXPECT_EQ(resize(image, 33, 17, r).rgb, image.rgb);
  }
}

// One pass only: a width-only resize leaves each column's values to the horizontal filter.
TEST(Resize, OneAxisChangesOnlyThatAxis) {
  Image column{1, 5, std::vector<uint8_t>(15)};
  for (int y = 0; y < 5; ++y) {
    column.rgb[3 * y] = static_cast<uint8_t>(y * 50);
    column.rgb[3 * y + 1] = 7;
    column.rgb[3 * y + 2] = 255;
  }
  const Image wide = resize(column, 4, 5, Resample::kBicubic);
  for (int y = 0; y < 5; ++y) {
    for (int x = 0; x < 4; ++x) {
      EXPECT_EQ(wide.rgb[(y * 4 + x) * 3], y * 50);
      EXPECT_EQ(wide.rgb[(y * 4 + x) * 3 + 2], 255);
    }
  }
}

}  // namespace
}  // namespace sluice::media
