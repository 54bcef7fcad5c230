// Content hashes: the pixels decide, not the file they came in.
#include "media/content_hash.h"

#include <gtest/gtest.h>

#include "media_test_util.h"

namespace sluice::media {
namespace {

TEST(ContentHash, IsSha256Of128BitsOverSizeAndPixels) {
  const Image image{2, 1, {1, 2, 3, 4, 5, 6}};
  const uint8_t buf[] = {2, 0, 0, 0, 1, 0, 0, 0, 1, 2, 3, 4, 5, 6};
  const ContentHash h = content_hash(image);
  EXPECT_EQ(h.hex(), testing::sha256_hex(buf, sizeof(buf)).substr(0, 32));
  EXPECT_EQ(h.hex().size(), 32u);
}

TEST(ContentHash, SamePixelsInAnotherFileHashTheSame) {
  const ContentHash png = content_hash(testing::decode_fixture("photo_37x23.png"));
  EXPECT_EQ(content_hash(testing::decode_fixture("photo_37x23_lossless.webp")), png);
  EXPECT_EQ(content_hash(testing::decode_fixture("adam7_37x23.png")), png);  // interlaced
  // The JPEG of the same picture has other pixels.
  EXPECT_NE(content_hash(testing::decode_fixture("photo_37x23_444.jpg")), png);
}

TEST(ContentHash, DifferentPicturesOrShapesHashDifferently) {
  Image a = testing::decode_fixture("photo_37x23.png");
  Image b = a;
  b.rgb[b.rgb.size() / 2] ^= 1;  // one bit of one pixel
  EXPECT_NE(content_hash(a), content_hash(b));
  Image transposed = a;
  std::swap(transposed.width, transposed.height);  // same bytes, 23x37
  EXPECT_NE(content_hash(a), content_hash(transposed));
  EXPECT_NE(content_hash(a).hex(), content_hash(b).hex());
}

}  // namespace
}  // namespace sluice::media
