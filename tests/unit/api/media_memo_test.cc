// Media already decoded, by their bytes' digest: found again, least recently used out first.
#include "api/media/media_memo.h"

#include <gtest/gtest.h>

#include <vector>

namespace sluice::api {
namespace {

media::ContentHash key(uint64_t i) {
  const std::vector<uint8_t> bytes{static_cast<uint8_t>(i), 1, 2};
  return media::bytes_hash(bytes);
}

TEST(ImageMemo, FindsWhatItKeptAndForgetsTheLeastRecentlyUsed) {
  ImageMemo memo(2);
  memo.insert(key(1), {{1, 1}, 10, 20});
  memo.insert(key(2), {{2, 2}, 30, 40});
  ASSERT_TRUE(memo.find(key(1)));  // 1 is now the most recent: 2 goes first
  memo.insert(key(3), {{3, 3}, 50, 60});
  EXPECT_FALSE(memo.find(key(2)));
  const auto one = memo.find(key(1));
  ASSERT_TRUE(one);
  EXPECT_EQ(one->pixels, (media::ContentHash{1, 1}));
  EXPECT_EQ(one->width, 10);
  EXPECT_TRUE(memo.find(key(3)));
  EXPECT_NE(key(1), key(2));
}

TEST(VideoMemo, KeepsEachVideosFramesInOrderAndReplacesOnInsert) {
  VideoMemo memo(4);
  memo.insert(key(1), {{{{1, 1}, 10, 20}, {{2, 2}, 10, 20}}, {0.0, 0.5}});
  const auto video = memo.find(key(1));
  ASSERT_TRUE(video);
  ASSERT_EQ(video->frames.size(), 2u);
  EXPECT_EQ(video->frames[1].pixels, (media::ContentHash{2, 2}));
  EXPECT_EQ(video->times_s, (std::vector<double>{0.0, 0.5}));
  memo.insert(key(1), {{{{3, 3}, 5, 6}}, {0.0}});
  EXPECT_EQ(memo.find(key(1))->frames.size(), 1u);
  EXPECT_FALSE(memo.find(key(2)));
}

}  // namespace
}  // namespace sluice::api
