#pragma once
// A video as ONE input of a Qwen2-VL / Qwen2.5-VL tower (VisionTower::takes_video), as
// transformers' Qwen2VLVideoProcessor prepares it: every sampled frame stretched (BICUBIC) to one
// size, the first frame's by transformers' smart resize within the processor's video limits (128
// to 768 tokens of 28 x 28 px a frame; media/smart_resize.h), then normalized with the mmproj's
// mean and std. Its content hash covers the frames' hashes, the size and the time between frames
// (which sets its M-RoPE positions): a repeated video hits the encoder and prefix caches, a video
// that differs in one frame does not.
#include <functional>
#include <memory>
#include <vector>

#include "api/media/media_memo.h"
#include "engine/request.h"
#include "media/image.h"
#include "media/normalize.h"
#include "media/smart_resize.h"
#include "model/vision/vision_tower.h"

namespace sluice::api {

// The size every frame of a clip is given, from its first frame's decoded size.
media::GridSize clip_frame_size(const VisionConfig& c, int width, int height);

// A decoded frame at the clip's size (a copy when it has that size already).
media::Image clip_frame(const media::Image& frame, media::GridSize size);

// The frames' normalization: the mmproj's mean and std, on pixels / 255.
media::Normalization clip_normalization(const VisionConfig& c);

// The clip from what is known of its frames (at least one); `pixels` makes
// [frames, 3, height, width]. Its offset is left for the prompt builder.
ImageInput clip_input(const VisionTower& vision, const SeenVideo& seen,
                      std::function<std::vector<float>()> pixels);

// Frames as the decoder gives them: each hashed and sized at once (a clip holds frames of the
// encoder's size, never the video's).
class VideoClipBuilder {
 public:
  explicit VideoClipBuilder(const VisionTower& vision) : vision_(vision) {}
  void add(double time_s, media::Image frame);
  size_t size() const { return seen_.frames.size(); }
  const SeenVideo& seen() const { return seen_; }
  // The clip of the frames added (at least one).
  ImageInput finish() const;

 private:
  const VisionTower& vision_;
  SeenVideo seen_;
  media::GridSize size_;
  std::shared_ptr<std::vector<media::Image>> sized_ = std::make_shared<std::vector<media::Image>>();
};

}  // namespace sluice::api
