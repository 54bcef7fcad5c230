#include "api/media/image_prompt.h"

#include <algorithm>

#include "api/api_error.h"
#include "common/assert.h"

namespace sluice::api {

ImagePromptFormat image_prompt_format(const VisionTower& vision, const Tokenizer& tok) {
  ImagePromptFormat f;
  if (vision.dynamic_resolution()) {
    // Qwen2-VL (Qwen2VLProcessor): the template's <|image_pad|> becomes one per image token.
    f.marker = "<|vision_start|><|image_pad|><|vision_end|>";
    f.before = "<|vision_start|>";
    f.after = "<|vision_end|>";
    const auto pad = tok.token_id("<|image_pad|>");
    if (!pad || !tok.token_id(f.before) || !tok.token_id(f.after))
      throw invalid(
          "the model's vocabulary lacks Qwen2-VL's image tokens (<|vision_start|>, "
          "<|image_pad|>, <|vision_end|>)",
          "messages");
    f.placeholder_id = *pad;
    f.video_marker = "<|vision_start|><|video_pad|><|vision_end|>";
    f.video_placeholder_id = tok.token_id("<|video_pad|>").value_or(-1);
    return f;  // num_placeholders 0: each image's own count
  }
  // Gemma 3 (Gemma3Processor): the template's boi token becomes the full image sequence.
  f.marker = "<start_of_image>";
  f.before = "\n\n<start_of_image>";
  f.after = "<end_of_image>\n\n";
  f.num_placeholders = static_cast<int32_t>(vision.tokens_per_image());
  if (!tok.token_id(f.marker) || !tok.token_id("<end_of_image>"))
    throw invalid(
        "the model's vocabulary lacks Gemma 3's image tokens (<start_of_image>, <end_of_image>)",
        "messages");
  // The placeholders' ids are never embedded (the encoder's rows replace them).
  f.placeholder_id = tok.token_id("<image_soft_token>").value_or(*tok.token_id(f.marker));
  return f;
}

std::vector<int32_t> tokenize_with_images(const std::string& text, const ImagePromptFormat& format,
                                          const Tokenizer& tok, std::vector<ImageInput>& images,
                                          const std::vector<MediaRun>& runs) {
  // Text pieces between images end and start at special tokens (before / after), so tokenizing
  // them one by one gives the tokens of the processor's whole expanded text.
  std::vector<int32_t> tokens;
  auto encode = [&](const std::string& piece) {
    const auto ids = tok.encode(piece, EncodeOptions{.add_special = false, .parse_special = true});
    tokens.insert(tokens.end(), ids.begin(), ids.end());
  };
  // The next image or video marker at or after `from` (npos: none), and whether it is a video's.
  auto next_marker = [&](size_t from, bool& video) {
    const size_t image = text.find(format.marker, from);
    const size_t clip =
        format.video_marker.empty() ? std::string::npos : text.find(format.video_marker, from);
    video = clip < image;
    return std::min(image, clip);
  };
  size_t markers = 0, at = 0, next_input = 0;
  std::string piece;
  bool video = false;
  for (size_t hit; (hit = next_marker(at, video)) != std::string::npos;
       at = hit + (video ? format.video_marker : format.marker).size(), ++markers) {
    if (markers == runs.size())
      throw invalid("the chat template placed more images than the request has", "messages");
    const MediaRun& run = runs[markers];
    if (run.video != video)
      throw invalid(std::string("the chat template placed ") + (video ? "a video" : "an image") +
                        " where the request has " + (video ? "an image" : "a video"),
                    "messages");
    if (video && format.video_placeholder_id < 0)
      throw invalid("the model's vocabulary lacks Qwen2-VL's video token (<|video_pad|>)",
                    "messages");
    SLUICE_ASSERT(next_input + run.count <= images.size() &&
                      (run.labels.empty() || run.labels.size() == run.count),
                  "runs that cover the inputs");
    piece.append(text, at, hit - at).append(format.before);
    for (size_t k = 0; k < run.count; ++k) {
      if (!run.labels.empty()) piece.append(run.labels[k]).append(format.before);
      encode(piece);
      ImageInput& im = images[next_input++];
      im.offset = static_cast<int32_t>(tokens.size());
      if (format.num_placeholders > 0) im.num_tokens = format.num_placeholders;
      tokens.insert(tokens.end(), im.num_tokens,
                    video ? format.video_placeholder_id : format.placeholder_id);
      piece = format.after;
    }
    if (!run.labels.empty()) piece.append(format.after);
  }
  if (markers != runs.size())
    throw invalid("the chat template placed " + std::to_string(markers) + " image(s) for the " +
                      std::to_string(runs.size()) + " image part(s) of the request",
                  "messages");
  encode(piece.append(text, at, std::string::npos));
  return tokens;
}

std::vector<int32_t> tokenize_with_images(const std::string& text, const ImagePromptFormat& format,
                                          const Tokenizer& tok, std::vector<ImageInput>& images) {
  std::vector<MediaRun> runs;
  for (const ImageInput& im : images) runs.push_back({.video = im.is_video()});
  return tokenize_with_images(text, format, tok, images, runs);
}

}  // namespace sluice::api
