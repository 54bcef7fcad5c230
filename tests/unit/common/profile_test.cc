// SLUICE_PROFILE: totals by key, written sorted by total time. The variable is read once, so it
// is set before the first call in this process (no other common test uses the profile).
#include "common/profile.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace sluice {
namespace {

TEST(ProfileTest, WritesTotalsByKeySortedByTime) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("sluice_profile_test_" + std::to_string(::getpid()) + ".txt"))
                               .string();
  ::setenv("SLUICE_PROFILE", path.c_str(), 1);
  ASSERT_TRUE(profile::enabled());
  profile::add("op a", 0.5);
  profile::add("op a", 0.25);
  profile::add("op b", 1.0);
  profile::dump();
  std::ifstream f(path);
  ASSERT_TRUE(f.good());
  std::string header, first, second;
  std::getline(f, header);
  std::getline(f, first);
  std::getline(f, second);
  EXPECT_NE(header.find("total_ms"), std::string::npos);
  std::istringstream b(first), a(second);
  std::string w1, w2;
  long count = 0;
  double total_ms = 0, mean_us = 0;
  b >> w1 >> w2 >> count >> total_ms >> mean_us;
  EXPECT_EQ(w1 + " " + w2, "op b");
  EXPECT_EQ(count, 1);
  EXPECT_DOUBLE_EQ(total_ms, 1000.0);
  a >> w1 >> w2 >> count >> total_ms >> mean_us;
  EXPECT_EQ(w1 + " " + w2, "op a");
  EXPECT_EQ(count, 2);
  EXPECT_DOUBLE_EQ(total_ms, 750.0);
  EXPECT_DOUBLE_EQ(mean_us, 375000.0);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace sluice
