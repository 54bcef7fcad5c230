#include "api/media/video_clip.h"

#include <algorithm>
#include <cstdio>
#include <span>

#include "common/assert.h"
#include "media/content_hash.h"
#include "media/resize.h"

namespace sluice::api {

namespace {

// qwen-vl-utils' VIDEO_MIN_TOKEN_NUM / VIDEO_MAX_TOKEN_NUM (Qwen2VLVideoProcessor.size: the
// same for 28 px tokens), tokens of a frame.
constexpr int64_t kMinTokensPerFrame = 128;
constexpr int64_t kMaxTokensPerFrame = 768;

// Seconds from one frame to the next: the sampled frames' mean spacing (transformers'
// temporal_patch_size / fps is twice it). One frame: any (a single temporal patch has t = 0).
double frame_interval(std::span<const double> times_s) {
  if (times_s.size() < 2) return 1.0;
  const double span = times_s.back() - times_s.front();
  return span > 0 ? span / static_cast<double>(times_s.size() - 1) : 1.0;
}

media::ContentHash clip_hash(std::span<const SeenPicture> frames, media::GridSize size,
                             double interval) {
  char tag[128];
  std::snprintf(tag, sizeof tag, "sluice video clip\n%zu frames %dx%d every %.17g s\n",
                frames.size(), size.width, size.height, interval);
  std::vector<uint8_t> hashes;  // each frame's content hash, high then low, little-endian
  for (const SeenPicture& f : frames)
    for (uint64_t word : {f.pixels.high, f.pixels.low})
      for (int b = 0; b < 8; ++b) hashes.push_back(static_cast<uint8_t>(word >> (8 * b)));
  return media::tagged_hash(tag, std::span(hashes));
}

// Frames [first, first + count) of the video as one clip.
ImageInput clip_of(const VisionTower& vision, const SeenVideo& seen, media::GridSize size,
                   size_t first, size_t count, SizedFrames frames) {
  ImageInput im;
  im.height = size.height, im.width = size.width;
  im.num_frames = static_cast<int32_t>(count);
  im.frame_interval_s = frame_interval(std::span(seen.times_s).subspan(first, count));
  im.num_tokens =
      static_cast<int32_t>(vision.tokens_for_video(im.num_frames, {im.height, im.width}));
  const media::ContentHash hash =
      clip_hash(std::span(seen.frames).subspan(first, count), size, im.frame_interval_s);
  im.hash_lo = hash.low, im.hash_hi = hash.high;
  im.pixels = [frames = std::move(frames), first, count,
               norm = clip_normalization(vision.config())] {
    const std::shared_ptr<const std::vector<media::Image>> all = frames();
    std::vector<float> pixels;  // [count, 3, height, width]
    for (size_t i = first; i < first + count; ++i) {
      const std::vector<float> one = media::normalize_to_chw((*all)[i], norm);
      pixels.insert(pixels.end(), one.begin(), one.end());
    }
    return pixels;
  };
  return im;
}

// Qwen3VLProcessor's "<t seconds>": the mean time of the patch's first and last frame (an odd
// count's last patch repeats its frame), with Python's "{:.1f}" (printf rounds alike).
std::string timestamp(const SeenVideo& seen, size_t first, size_t count) {
  char text[64];
  const double t = (seen.times_s[first] + seen.times_s[first + count - 1]) / 2;
  std::snprintf(text, sizeof text, "<%.1f seconds>", t);
  return text;
}

}  // namespace

media::GridSize clip_frame_size(const VisionConfig& c, int width, int height) {
  const int64_t factor = c.size_multiple();
  return media::hf_smart_resize_size(
      width, height,
      {static_cast<int>(factor), kMinTokensPerFrame * factor * factor,
       kMaxTokensPerFrame * factor * factor});
}

media::Image clip_frame(const media::Image& frame, media::GridSize size) {
  if (frame.width == size.width && frame.height == size.height) return frame;
  return media::resize(frame, size.width, size.height, media::Resample::kBicubic);
}

media::Normalization clip_normalization(const VisionConfig& c) {
  media::Normalization norm;
  for (int i = 0; i < 3; ++i) norm.mean[i] = c.image_mean[i], norm.stddev[i] = c.image_std[i];
  return norm;
}

LoadedVideo video_clips(const VisionTower& vision, const SeenVideo& seen, SizedFrames frames) {
  SLUICE_ASSERT(!seen.frames.empty() && seen.frames.size() == seen.times_s.size(),
                "a video of at least one frame, each with its time");
  const media::GridSize size =
      clip_frame_size(vision.config(), seen.frames[0].width, seen.frames[0].height);
  LoadedVideo v;
  if (vision.config().projector != ProjectorType::kQwen3VL) {
    v.inputs.push_back(clip_of(vision, seen, size, 0, seen.frames.size(), std::move(frames)));
    return v;
  }
  for (size_t first = 0; first < seen.frames.size(); first += kFramesPerTemporalPatch) {
    const size_t count = std::min<size_t>(kFramesPerTemporalPatch, seen.frames.size() - first);
    v.inputs.push_back(clip_of(vision, seen, size, first, count, frames));
    v.labels.push_back(timestamp(seen, first, count));
  }
  return v;
}

void VideoClipBuilder::add(double time_s, media::Image frame) {
  if (seen_.frames.empty()) size_ = clip_frame_size(vision_.config(), frame.width, frame.height);
  seen_.frames.push_back({media::content_hash(frame), frame.width, frame.height});
  seen_.times_s.push_back(time_s);
  sized_->push_back(clip_frame(frame, size_));
}

LoadedVideo VideoClipBuilder::finish() const {
  return video_clips(
      vision_, seen_,
      [sized = std::shared_ptr<const std::vector<media::Image>>(sized_)] { return sized; });
}

}  // namespace sluice::api
