#include "common/base64.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(Base64, RoundTripsRfc4648Vectors) {
  const std::pair<const char*, const char*> cases[] = {{"", ""},
                                                       {"f", "Zg=="},
                                                       {"fo", "Zm8="},
                                                       {"foo", "Zm9v"},
                                                       {"foob", "Zm9vYg=="},
                                                       {"fooba", "Zm9vYmE="},
                                                       {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, coded] : cases) {
    EXPECT_EQ(base64::encode(plain), coded);
    EXPECT_EQ(base64::decode(coded), std::string(plain));
  }
  const std::string bytes("\0\xff\x10 ok", 6);
  EXPECT_EQ(base64::decode(base64::encode(bytes)), bytes);
}

TEST(Base64, RejectsWhatIsNotBase64) {
  for (const char* bad : {"Zg=", "Zm9v!A==", "Zm 9v", "====", "Z==="})
    EXPECT_FALSE(base64::decode(bad).has_value()) << bad;
}

}  // namespace
}  // namespace sluice
