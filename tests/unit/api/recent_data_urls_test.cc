// Data URLs kept whole under a byte budget: found only by their exact text, least recently used
// out first.
#include "api/media/recent_data_urls.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::api {
namespace {

std::string url(char fill, size_t n) {
  return "data:image/png;base64," + std::string(n, fill);
}

SeenPicture seen(uint64_t i) {
  return {{i, i}, static_cast<int>(i), static_cast<int>(2 * i)};
}

TEST(RecentDataUrls, FindsOnlyTheExactTextAndSharesTheKeptCopy) {
  RecentDataUrls recent(1000);
  const std::string a = url('A', 100);
  EXPECT_FALSE(recent.find(a));
  const auto kept = recent.insert(a, seen(1));
  ASSERT_TRUE(kept);
  EXPECT_EQ(*kept, a);
  const auto hit = recent.find(a);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->url, kept);  // the same copy, not another
  EXPECT_EQ(hit->seen.pixels, (media::ContentHash{1, 1}));
  EXPECT_EQ(hit->seen.height, 2);
  std::string b = a;
  b.back() = 'B';  // one character apart
  EXPECT_FALSE(recent.find(b));
  EXPECT_FALSE(recent.find(a.substr(0, a.size() - 1)));
  EXPECT_EQ(recent.insert(a, seen(5)), kept);  // a second insert updates in place
  EXPECT_EQ(recent.find(a)->seen.width, 5);
  EXPECT_EQ(recent.bytes(), a.size());
}

TEST(RecentDataUrls, KeepsTheBudgetLeastRecentlyUsedOutFirst) {
  std::vector<std::string> urls;
  for (char c : std::string("abcde")) urls.push_back(url(c, 200));
  RecentDataUrls recent(4 * urls[0].size());  // four fit
  for (int i = 0; i < 4; ++i) recent.insert(urls[i], seen(i));
  ASSERT_TRUE(recent.find(urls[0]));  // a is now the most recent: b goes first
  recent.insert(urls[4], seen(4));
  EXPECT_FALSE(recent.find(urls[1]));
  for (int i : {0, 2, 3, 4}) EXPECT_TRUE(recent.find(urls[i])) << i;
  EXPECT_EQ(recent.bytes(), 4 * urls[0].size());
}

TEST(RecentDataUrls, DoesNotKeepATextOverAQuarterOfTheBudget) {
  RecentDataUrls recent(400);
  const std::string big = url('x', 100);  // 122 bytes > 100
  EXPECT_EQ(recent.insert(big, seen(1)), nullptr);
  EXPECT_FALSE(recent.find(big));
  EXPECT_EQ(recent.bytes(), 0u);
}

}  // namespace
}  // namespace sluice::api
