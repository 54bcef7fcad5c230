#include "api/media/image_prompt.h"

#include "api/api_error.h"

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
                                          const Tokenizer& tok, std::vector<ImageInput>& images) {
  // Text pieces between images end and start at special tokens (before / after), so tokenizing
  // them one by one gives the tokens of the processor's whole expanded text.
  std::vector<int32_t> tokens;
  auto encode = [&](const std::string& piece) {
    const auto ids = tok.encode(piece, EncodeOptions{.add_special = false, .parse_special = true});
    tokens.insert(tokens.end(), ids.begin(), ids.end());
  };
  size_t markers = 0, at = 0;
  std::string piece;
  for (size_t hit; (hit = text.find(format.marker, at)) != std::string::npos;
       at = hit + format.marker.size(), ++markers) {
    if (markers == images.size())
      throw invalid("the chat template placed more images than the request has", "messages");
    piece.append(text, at, hit - at).append(format.before);
    encode(piece);
    ImageInput& im = images[markers];
    im.offset = static_cast<int32_t>(tokens.size());
    if (format.num_placeholders > 0) im.num_tokens = format.num_placeholders;
    tokens.insert(tokens.end(), im.num_tokens, format.placeholder_id);
    piece = format.after;
  }
  if (markers != images.size())
    throw invalid("the chat template placed " + std::to_string(markers) + " image(s) for the " +
                      std::to_string(images.size()) + " image part(s) of the request",
                  "messages");
  encode(piece.append(text, at, std::string::npos));
  return tokens;
}

}  // namespace sluice::api
