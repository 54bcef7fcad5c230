#pragma once
// How `sluice serve` turns a video_url part into frames (flags --video-*).
#include <cstddef>

namespace sluice::api {

struct VideoOptions {
  double fps = 1;               // frames sampled per second of video (--video-fps)
  int max_frames = 16;          // per video; past it, spread over the duration (--video-max-frames)
  double max_duration_s = 600;  // longer videos are a 400 (--video-max-duration)
  size_t max_bytes = 64u << 20;  // per video, as fetched (--max-video-bytes)
  double decode_timeout_s = 30;  // demuxing and decoding one video (--video-timeout)
};

}  // namespace sluice::api
