// Rescale + normalize to float CHW against transformers.image_transforms.rescale / normalize.
#include "media/normalize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "media/resize.h"
#include "media_test_util.h"

namespace sluice::media {
namespace {

TEST(Normalize, MatchesHuggingFaceFloat32) {
  ASSERT_GE(testing::golden()["normalize"].size(), 3u);
  for (const auto& g : testing::golden()["normalize"]) {
    const std::string file = g["file"];
    SCOPED_TRACE(file);
    Image image = testing::decode_fixture(file);
    if (!g["resize"].is_null()) {
      image = resize(image, g["width"], g["height"],
                     g["resize"] == "bicubic" ? Resample::kBicubic : Resample::kBilinear);
    }
    Normalization n;
    n.rescale_factor = g["rescale"];
    for (int c = 0; c < 3; ++c) {
      n.mean[c] = g["mean"][c];
      n.stddev[c] = g["std"][c];
    }
    const std::vector<float> out = normalize_to_chw(image, n);
    ASSERT_EQ(out.size(), size_t{3} * image.width * image.height);
    const std::vector<uint8_t> raw = testing::read_bytes(g["raw"]);
    ASSERT_EQ(raw.size(), out.size() * sizeof(float));
    std::vector<float> want(out.size());
    std::memcpy(want.data(), raw.data(), raw.size());
    double max_diff = 0;
    for (size_t i = 0; i < out.size(); ++i)
      max_diff = std::max(max_diff, double(std::fabs(out[i] - want[i])));
    EXPECT_LE(max_diff, 1e-6);
    EXPECT_EQ(testing::sha256_hex(out.data(), out.size() * sizeof(float)), g["sha256"]);
  }
}

TEST(Normalize, ChannelsFirst) {
  const Image image{2, 1, {0, 255, 51, 255, 0, 102}};
  Normalization n;
  n.mean = {0.5, 0.5, 0.5};
  n.stddev = {0.5, 0.5, 0.5};
  const std::vector<float> out = normalize_to_chw(image, n);  // [3, 1, 2]
  const std::vector<float> want = {-1, 1, 1, -1, -0.6f, -0.2f};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(out[i], want[i], 1e-6) << i;
}

}  // namespace
}  // namespace sluice::media
