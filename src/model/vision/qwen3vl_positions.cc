#include "model/vision/qwen3vl_positions.h"

#include <algorithm>
#include <cmath>

namespace sluice {
namespace {

// The two table indices and the second one's weight of output index i of n along one axis.
struct Taps {
  int64_t lo = 0, hi = 0;
  double w_hi = 0.0;
};

Taps taps(int64_t i, int64_t n, int64_t side) {
  const double src =
      n > 1 ? static_cast<double>(i) * static_cast<double>(side - 1) / static_cast<double>(n - 1)
            : 0.0;
  Taps t;
  t.lo = std::min<int64_t>(static_cast<int64_t>(std::floor(src)), side - 1);
  t.hi = std::min<int64_t>(t.lo + 1, side - 1);
  t.w_hi = src - static_cast<double>(t.lo);
  return t;
}

}  // namespace

void qwen3vl_position_rows(const float* table, int64_t side, int64_t hidden, int64_t grid_h,
                           int64_t grid_w, const int32_t* pos_y, const int32_t* pos_x,
                           int64_t count, float* out) {
  for (int64_t r = 0; r < count; ++r) {
    const Taps y = taps(pos_y[r], grid_h, side), x = taps(pos_x[r], grid_w, side);
    const float w[4] = {
        static_cast<float>((1 - y.w_hi) * (1 - x.w_hi)), static_cast<float>((1 - y.w_hi) * x.w_hi),
        static_cast<float>(y.w_hi * (1 - x.w_hi)), static_cast<float>(y.w_hi * x.w_hi)};
    const float* src[4] = {
        table + (y.lo * side + x.lo) * hidden, table + (y.lo * side + x.hi) * hidden,
        table + (y.hi * side + x.lo) * hidden, table + (y.hi * side + x.hi) * hidden};
    float* row = out + r * hidden;
    for (int64_t d = 0; d < hidden; ++d)
      row[d] = w[0] * src[0][d] + w[1] * src[1][d] + w[2] * src[2][d] + w[3] * src[3][d];
  }
}

}  // namespace sluice
