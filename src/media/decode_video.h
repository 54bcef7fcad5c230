#pragma once
// Video bytes -> the RGB8 frames a model samples (video_sampling.h), through FFmpeg's libraries.
// Video is optional at build time: without FFmpeg, video_decoding_available() is false and
// decode_video() an error. Only MP4/MOV, Matroska/WebM, AVI and GIF containers are opened (no
// playlists or references that would read other files or URLs); any codec libavcodec decodes.
// Bad input is an "[video] ..." error, never a partial result or a crash.
#include <cstdint>
#include <functional>
#include <span>

#include "common/status.h"
#include "media/decode.h"
#include "media/image.h"
#include "media/video_sampling.h"

namespace sluice::media {

struct VideoLimits {
  DecodeLimits frame;           // every frame, checked as an image's header is
  double max_duration_s = 600;  // longer videos are refused before any frame is decoded
  double timeout_s = 30;        // demuxing and decoding, all together
};

bool video_decoding_available();

// Calls `on_frame(time_s, frame)` for each sampled frame in time order (`time_s`: the moment it
// was taken for, seconds from the first frame), so the caller can shrink a frame before the next
// one is decoded. Errors read "[video] not a video (...)", "[video] unsupported container 'wav'
// (...)", "[video] no video stream", "[video] corrupt or truncated video: ...", "[video] the
// video lasts 700.0 s, over the limit of 600 s", "[video] decoding took over 30 s".
Status decode_video(std::span<const uint8_t> bytes, const FrameSampling& sampling,
                    const VideoLimits& limits,
                    const std::function<void(double time_s, Image frame)>& on_frame);

}  // namespace sluice::media
