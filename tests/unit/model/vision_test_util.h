#pragma once
// Helpers for the mmproj (clip.*) vision tests.
#include <gtest/gtest.h>

#include <string>

#include "common/status.h"
#include "model/vision/vision_config.h"

namespace sluice::testing {

// `c` failed with an mmproj error that names `part`.
inline void expect_error(const Result<VisionConfig>& c, const std::string& part) {
  ASSERT_FALSE(c.ok()) << "accepted; wanted an error naming " << part;
  EXPECT_NE(c.error().find(part), std::string::npos) << c.error();
  EXPECT_EQ(c.error().rfind("[mmproj] ", 0), 0u) << c.error();
}

}  // namespace sluice::testing
