#include "media/video_sampling.h"

#include <algorithm>
#include <cmath>

namespace sluice::media {

namespace {

// Timestamps come from integer time bases: 1.9 + 0.1 may be 2.0000000000000004.
constexpr double kTolerance = 1e-6;

}  // namespace

std::vector<double> sample_times(double duration_s, const FrameSampling& sampling) {
  const double fps = sampling.fps > 0 ? sampling.fps : 1;
  const size_t cap = static_cast<size_t>(std::max(sampling.max_frames, 1));
  const double wanted = std::ceil(std::max(duration_s, 0.0) * fps - kTolerance);
  const size_t count = wanted < 1 ? 1 : static_cast<size_t>(std::min(wanted, 1e9));
  std::vector<double> times;
  if (count <= cap) {
    for (size_t i = 0; i < count; ++i) times.push_back(static_cast<double>(i) / fps);
  } else {
    for (size_t i = 0; i < cap; ++i)
      times.push_back(static_cast<double>(i) * duration_s / static_cast<double>(cap));
  }
  return times;
}

std::vector<SampledFrame> sample_frames(std::span<const double> frame_times_s, double end_s,
                                        const FrameSampling& sampling) {
  std::vector<SampledFrame> out;
  if (frame_times_s.empty()) return out;
  const double first = frame_times_s.front();
  for (double t : sample_times(end_s - first, sampling)) {
    // The last frame starting at or before first + t (the first frame when none does).
    auto after =
        std::upper_bound(frame_times_s.begin(), frame_times_s.end(), first + t + kTolerance);
    const size_t index =
        after == frame_times_s.begin() ? 0 : static_cast<size_t>(after - frame_times_s.begin()) - 1;
    if (!out.empty() && out.back().index == index) continue;
    out.push_back({index, t});
  }
  return out;
}

}  // namespace sluice::media
