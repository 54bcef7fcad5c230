// The pre-parse check of untrusted JSON: depth and object size limits; brackets and commas
// inside strings (escaped quotes included) do not count.
#include "common/json_shape.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

std::string nested(int depth) {
  return std::string(depth, '[') + "1" + std::string(depth, ']');
}

TEST(JsonShape, RefusesNestingPastTheLimit) {
  EXPECT_FALSE(json_shape_error(nested(128)));
  auto error = json_shape_error(nested(129));
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("128 levels"), std::string::npos);
  EXPECT_FALSE(json_shape_error(nested(3000), {.max_depth = 5000}));
}

TEST(JsonShape, RefusesObjectsWithTooManyMembers) {
  std::string obj = "{";
  for (int i = 0; i < 10; ++i) obj += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
  obj += "}";
  EXPECT_FALSE(json_shape_error(obj, {.max_members = 10}));
  EXPECT_TRUE(json_shape_error(obj, {.max_members = 9}));
  // Arrays are not limited: their elements append in constant time.
  EXPECT_FALSE(json_shape_error("[1,2,3,4,5,6,7,8,9,10,11]", {.max_members = 3}));
}

TEST(JsonShape, IgnoresBracketsAndCommasInStrings) {
  EXPECT_FALSE(
      json_shape_error(R"({"a": "[[[[,,,,{{{{ \" [[[[ ,,,"})", {.max_depth = 1, .max_members = 2}));
  EXPECT_TRUE(json_shape_error(R"({"a": "\\", "b": [[1]]})", {.max_depth = 2}));
}

}  // namespace
}  // namespace sluice
