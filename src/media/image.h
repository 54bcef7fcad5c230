#pragma once
// A decoded picture: 8-bit RGB, rows top to bottom, no padding between rows.
#include <cstdint>
#include <vector>

namespace sluice::media {

struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  // [height, width, 3]
};

}  // namespace sluice::media
