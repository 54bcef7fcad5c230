#pragma once
// Which frames of a video a model sees, chosen by time (never by frame count, so a variable
// frame rate samples the same moments as a constant one): one moment every 1/fps seconds from
// the first frame; when that makes more than max_frames, max_frames moments spread evenly over
// the duration instead. Each moment takes the frame on screen then.
#include <cstddef>
#include <span>
#include <vector>

namespace sluice::media {

struct FrameSampling {
  double fps = 1;       // moments per second of video (> 0)
  int max_frames = 16;  // at most this many moments (> 0)
};

// The moments, in seconds from the first frame, for a video shown for `duration_s`: i / fps
// for every i with i / fps < duration_s (at least the moment 0), or, past max_frames of them,
// i * duration_s / max_frames for i < max_frames.
std::vector<double> sample_times(double duration_s, const FrameSampling& sampling);

struct SampledFrame {
  size_t index = 0;   // into the frame times given
  double time_s = 0;  // the moment it was taken for, seconds from the first frame
};

// `frame_times_s`: every frame's presentation time in seconds, ascending (the first need not be
// 0); `end_s`: when the last frame stops showing. For each moment the frame on screen then (the
// last one starting at or before it, within a microsecond); a frame on screen at several
// moments is taken once, for the first. Empty when there are no frames.
std::vector<SampledFrame> sample_frames(std::span<const double> frame_times_s, double end_s,
                                        const FrameSampling& sampling);

}  // namespace sluice::media
