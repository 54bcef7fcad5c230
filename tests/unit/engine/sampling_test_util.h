#pragma once
// What the sampler tests share.
#include <limits>

namespace sluice::testing {

inline constexpr float kInf = std::numeric_limits<float>::infinity();

}  // namespace sluice::testing
