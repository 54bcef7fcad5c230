#include "api/media/video_clip.h"

#include <cstdio>
#include <span>
#include <string>

#include "common/assert.h"
#include "media/content_hash.h"
#include "media/resize.h"

namespace sluice::api {

namespace {

// Qwen2VLVideoProcessor.size: shortest_edge / longest_edge, pixels of a frame.
constexpr int64_t kVideoMinPixels = 128 * 28 * 28;
constexpr int64_t kVideoMaxPixels = 768 * 28 * 28;

// Seconds from one frame to the next: the sampled frames' mean spacing (transformers'
// temporal_patch_size / fps is twice it). One frame: any (a single temporal patch has t = 0).
double frame_interval(const std::vector<double>& times_s) {
  if (times_s.size() < 2) return 1.0;
  const double span = times_s.back() - times_s.front();
  return span > 0 ? span / static_cast<double>(times_s.size() - 1) : 1.0;
}

media::ContentHash clip_hash(const SeenVideo& seen, media::GridSize size, double interval) {
  char tag[128];
  std::snprintf(tag, sizeof tag, "sluice video clip\n%zu frames %dx%d every %.17g s\n",
                seen.frames.size(), size.width, size.height, interval);
  std::vector<uint8_t> hashes;  // each frame's content hash, high then low, little-endian
  for (const SeenPicture& f : seen.frames)
    for (uint64_t word : {f.pixels.high, f.pixels.low})
      for (int b = 0; b < 8; ++b) hashes.push_back(static_cast<uint8_t>(word >> (8 * b)));
  return media::tagged_hash(tag, std::span(hashes));
}

}  // namespace

media::GridSize clip_frame_size(const VisionConfig& c, int width, int height) {
  return media::hf_smart_resize_size(
      width, height, {static_cast<int>(c.size_multiple()), kVideoMinPixels, kVideoMaxPixels});
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

ImageInput clip_input(const VisionTower& vision, const SeenVideo& seen,
                      std::function<std::vector<float>()> pixels) {
  SLUICE_ASSERT(!seen.frames.empty() && seen.frames.size() == seen.times_s.size(),
                "a clip of at least one frame, each with its time");
  const media::GridSize size =
      clip_frame_size(vision.config(), seen.frames[0].width, seen.frames[0].height);
  ImageInput im;
  im.height = size.height, im.width = size.width;
  im.num_frames = static_cast<int32_t>(seen.frames.size());
  im.frame_interval_s = frame_interval(seen.times_s);
  im.num_tokens =
      static_cast<int32_t>(vision.tokens_for_video(im.num_frames, {im.height, im.width}));
  const media::ContentHash hash = clip_hash(seen, size, im.frame_interval_s);
  im.hash_lo = hash.low, im.hash_hi = hash.high;
  im.pixels = std::move(pixels);
  return im;
}

void VideoClipBuilder::add(double time_s, media::Image frame) {
  if (seen_.frames.empty()) size_ = clip_frame_size(vision_.config(), frame.width, frame.height);
  seen_.frames.push_back({media::content_hash(frame), frame.width, frame.height});
  seen_.times_s.push_back(time_s);
  sized_->push_back(clip_frame(frame, size_));
}

ImageInput VideoClipBuilder::finish() const {
  return clip_input(vision_, seen_, [sized = sized_, norm = clip_normalization(vision_.config())] {
    std::vector<float> pixels;  // [frames, 3, height, width]
    for (const media::Image& frame : *sized) {
      const std::vector<float> one = media::normalize_to_chw(frame, norm);
      pixels.insert(pixels.end(), one.begin(), one.end());
    }
    return pixels;
  });
}

}  // namespace sluice::api
