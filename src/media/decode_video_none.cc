// decode_video() of a build without FFmpeg's libraries (CMake found no libavformat).
#ifndef SLUICE_HAS_FFMPEG
#include "media/decode_video.h"

namespace sluice::media {

bool video_decoding_available() {
  return false;
}

Status decode_video(std::span<const uint8_t>, const FrameSampling&, const VideoLimits&,
                    const std::function<void(double, Image)>&) {
  return Status::error("video", "this sluice was built without FFmpeg's libraries");
}

}  // namespace sluice::media
#endif
