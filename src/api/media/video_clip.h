#pragma once
// A video for a tower that takes video (VisionTower::takes_video), as the model's own processor
// prepares it: every sampled frame stretched (BICUBIC) to one size, the first frame's by
// transformers' smart resize within qwen-vl-utils' per-frame limits (128 to 768 tokens of
// patch * merge pixels square; media/smart_resize.h), normalized with the mmproj's mean and std,
// two frames to a temporal patch. Qwen2-VL and Qwen2.5-VL (Qwen2VLProcessor) take the video as
// ONE clip under one placeholder run; Qwen3-VL (Qwen3VLProcessor) as a clip per temporal patch,
// each after the text "<t seconds>" (the mean time of its two frames, one decimal) and in its own
// <|vision_start|> ... <|vision_end|>. A clip's content hash covers its frames' hashes, its size
// and the time between frames (which sets Qwen2.5-VL's M-RoPE positions): a repeated video hits
// the encoder and prefix caches, one that differs in a sampled frame does not.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/media/media_memo.h"
#include "engine/request.h"
#include "media/image.h"
#include "media/normalize.h"
#include "media/smart_resize.h"
#include "model/vision/vision_tower.h"

namespace sluice::api {

// What a video part becomes: its frames as still images (a tower that takes no video), or clips
// (ImageInput::is_video) with, for Qwen3-VL, the timestamp text before each.
struct LoadedVideo {
  std::vector<ImageInput> inputs;
  std::vector<std::string> labels;  // empty, or one per input ("<0.5 seconds>")
};

// The size every frame of a video is given, from its first frame's decoded size.
media::GridSize clip_frame_size(const VisionConfig& c, int width, int height);

// A decoded frame at the video's size (a copy when it has that size already).
media::Image clip_frame(const media::Image& frame, media::GridSize size);

// The frames' normalization: the mmproj's mean and std, on pixels / 255.
media::Normalization clip_normalization(const VisionConfig& c);

// The video's frames at its size, in order: kept, or made again (decoded once more).
using SizedFrames = std::function<std::shared_ptr<const std::vector<media::Image>>()>;

// The clips of a video from what is known of its frames (at least one); `frames` is called only
// when the engine needs pixels. Offsets are left for the prompt builder.
LoadedVideo video_clips(const VisionTower& vision, const SeenVideo& seen, SizedFrames frames);

// Frames as the decoder gives them: each hashed and sized at once (a video holds frames of the
// encoder's size, never the video's).
class VideoClipBuilder {
 public:
  explicit VideoClipBuilder(const VisionTower& vision) : vision_(vision) {}
  void add(double time_s, media::Image frame);
  size_t size() const { return seen_.frames.size(); }
  const SeenVideo& seen() const { return seen_; }
  // The clips of the frames added (at least one).
  LoadedVideo finish() const;

 private:
  const VisionTower& vision_;
  SeenVideo seen_;
  media::GridSize size_;
  std::shared_ptr<std::vector<media::Image>> sized_ = std::make_shared<std::vector<media::Image>>();
};

}  // namespace sluice::api
