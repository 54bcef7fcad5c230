#pragma once
// Where a vision model's prompt holds its images. The chat template writes a marker per image
// part; the model's processor replaces it with the image's placeholder tokens (Gemma 3:
// "\n\n<start_of_image>" + 256 x <image_soft_token> + "<end_of_image>\n\n"; Qwen2-VL:
// "<|vision_start|>" + (h/28)*(w/28) x <|image_pad|> + "<|vision_end|>"; a video clip the same
// with its tokens of <|video_pad|>), which the engine then fills with the encoder's output.
#include <cstdint>
#include <string>
#include <vector>

#include "engine/request.h"
#include "model/vision/vision_tower.h"
#include "tokenizer/tokenizer.h"

namespace sluice::api {

struct ImagePromptFormat {
  std::string marker;         // what the chat template writes for one image part
  std::string before, after;  // what the processor puts around the image's placeholders
  int32_t placeholder_id = -1;
  int32_t num_placeholders = 0;  // per image; 0: each image's num_tokens (its size's)
  // Qwen2-VL family: what the template writes for a video part ("<|vision_start|><|video_pad|>
  // <|vision_end|>"), expanded as an image's with <|video_pad|> (-1: the vocabulary lacks it).
  std::string video_marker;
  int32_t video_placeholder_id = -1;
};

// The format of the tower's family; throws 400 when the tokenizer lacks its tokens.
ImagePromptFormat image_prompt_format(const VisionTower& vision, const Tokenizer& tok);

// What one marker of the rendered prompt stands for, markers in order: an image (one input), or
// a video: `count` clips, one (Qwen2-VL) or one per temporal patch, each after its label and in
// its own before ... after, all inside the marker's before ... after (Qwen3-VL:
// "<|vision_start|><0.0 seconds><|vision_start|>...<|vision_end|><1.0 seconds>...<|vision_end|>").
struct MediaRun {
  bool video = false;
  size_t count = 1;                 // inputs it holds
  std::vector<std::string> labels;  // empty, or one per clip
};

// Expands the markers of the rendered prompt, tokenizes it (special tokens parsed) and sets each
// input's offset (and num_tokens where the format fixes it), in order; `runs` say which inputs
// each marker holds (their counts sum to images.size()). Throws 400 when the markers do not
// match the runs one to one.
std::vector<int32_t> tokenize_with_images(const std::string& text, const ImagePromptFormat& format,
                                          const Tokenizer& tok, std::vector<ImageInput>& images,
                                          const std::vector<MediaRun>& runs);
// The same with one run per input: an image, or a video of one clip (ImageInput::is_video).
std::vector<int32_t> tokenize_with_images(const std::string& text, const ImagePromptFormat& format,
                                          const Tokenizer& tok, std::vector<ImageInput>& images);

}  // namespace sluice::api
