// An image's placeholders in the prompt: each marker the template wrote becomes the processor's
// text + placeholder run, whose offset the image records; counts must match one to one.
#include "api/media/image_prompt.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "api/api_error.h"

namespace sluice::api {
namespace {

const Tokenizer& qwen3() {
  static const auto tok = [] {
    const char* env = std::getenv("SLUICE_TESTDATA");
    const std::string dir = env ? env : std::string(SLUICE_SOURCE_DIR) + "/../shared/testdata";
    auto r = load_tokenizer_for(dir + "/tokenizers/qwen3/tokenizer.json");
    EXPECT_TRUE(r.ok()) << r.error();
    return std::move(r.value());
  }();
  return *tok;
}

ImagePromptFormat format() {
  ImagePromptFormat f;
  f.marker = "<IMG>";
  f.before = "<|vision_start|>";
  f.after = "<|vision_end|>";
  f.placeholder_id = 7;
  f.num_placeholders = 5;
  return f;
}

// Qwen2-VL / Qwen3-VL markers: an image's and a video's, each inside vision_start ... vision_end.
ImagePromptFormat qwen_vl_format() {
  ImagePromptFormat f;
  f.marker = "<|vision_start|><|image_pad|><|vision_end|>";
  f.video_marker = "<|vision_start|><|video_pad|><|vision_end|>";
  f.before = "<|vision_start|>";
  f.after = "<|vision_end|>";
  f.placeholder_id = *qwen3().token_id("<|image_pad|>");
  f.video_placeholder_id = *qwen3().token_id("<|video_pad|>");
  return f;
}

std::vector<int32_t> encode(const std::string& text) {
  return qwen3().encode(text, EncodeOptions{.add_special = false, .parse_special = true});
}

TEST(ImagePrompt, MarkersBecomePlaceholderRunsAtTheImagesOffsets) {
  std::vector<ImageInput> images(2);
  const auto tokens =
      tokenize_with_images("Look at <IMG> and<IMG>, please.", format(), qwen3(), images);
  const auto first = encode("Look at <|vision_start|>");
  ASSERT_EQ(images[0].offset, static_cast<int32_t>(first.size()));
  EXPECT_EQ(images[0].num_tokens, 5);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(tokens[images[0].offset + i], 7);
  // Between the images: the after text, the prose, the before text, tokenized as one piece.
  const auto middle = encode("<|vision_end|> and<|vision_start|>");
  EXPECT_EQ(images[1].offset, images[0].offset + 5 + static_cast<int32_t>(middle.size()));
  const auto tail = encode("<|vision_end|>, please.");
  EXPECT_EQ(tokens.size(), images[1].offset + 5 + tail.size());
  EXPECT_EQ(std::vector<int32_t>(tokens.end() - tail.size(), tokens.end()), tail);
}

TEST(ImagePrompt, MarkerCountMustMatchTheImages) {
  std::vector<ImageInput> one(1), three(3);
  EXPECT_THROW(tokenize_with_images("<IMG><IMG>", format(), qwen3(), one), ApiError);
  EXPECT_THROW(tokenize_with_images("<IMG><IMG>", format(), qwen3(), three), ApiError);
  std::vector<ImageInput> none;
  EXPECT_EQ(tokenize_with_images("plain text", format(), qwen3(), none), encode("plain text"));
}

// Qwen2-VL's layout: an image's run of <|image_pad|> and a clip's of <|video_pad|>, each of its
// own num_tokens, in the order the template wrote their markers.
TEST(ImagePrompt, VideoMarkersTakeClipsInOrder) {
  const ImagePromptFormat f = qwen_vl_format();
  std::vector<ImageInput> media(2);
  media[0].num_frames = 4, media[0].num_tokens = 12;  // a clip first
  media[1].num_tokens = 3;
  const std::string text = "Watch " + f.video_marker + " then see " + f.marker + ".";
  const auto tokens = tokenize_with_images(text, f, qwen3(), media);
  // The expanded text, tokenized whole, is the same tokens.
  std::string expanded = "Watch <|vision_start|>";
  for (int i = 0; i < 12; ++i) expanded += "<|video_pad|>";
  expanded += "<|vision_end|> then see <|vision_start|>";
  for (int i = 0; i < 3; ++i) expanded += "<|image_pad|>";
  expanded += "<|vision_end|>.";
  EXPECT_EQ(tokens, encode(expanded));
  EXPECT_EQ(media[0].offset, static_cast<int32_t>(encode("Watch <|vision_start|>").size()));
  EXPECT_EQ(tokens[media[0].offset + 11], f.video_placeholder_id);
  EXPECT_EQ(tokens[media[1].offset], f.placeholder_id);
  EXPECT_EQ(tokens[media[1].offset - 1], *qwen3().token_id("<|vision_start|>"));
  // A video marker for an image (or the reverse) is a 400.
  std::swap(media[0], media[1]);
  EXPECT_THROW(tokenize_with_images(text, f, qwen3(), media), ApiError);
}

// Qwen3-VL's layout: one video marker holds a clip per temporal patch, each after its label and
// in its own vision_start ... vision_end, all inside the marker's.
TEST(ImagePrompt, LabelledRunsNestEachClip) {
  const ImagePromptFormat f = qwen_vl_format();
  std::vector<ImageInput> media(3);
  media[0].num_tokens = 2;  // an image, then a video of two clips
  for (int i : {1, 2}) media[i].num_frames = 2, media[i].num_tokens = 3;
  const std::vector<MediaRun> runs = {{}, {true, 2, {"<0.2 seconds>", "<1.2 seconds>"}}};
  const auto tokens = tokenize_with_images("A " + f.marker + " then " + f.video_marker + " end.", f,
                                           qwen3(), media, runs);
  const std::string expanded =
      "A <|vision_start|><|image_pad|><|image_pad|><|vision_end|> then <|vision_start|><0.2 "
      "seconds><|vision_start|><|video_pad|><|video_pad|><|video_pad|><|vision_end|><1.2 "
      "seconds><|vision_start|><|video_pad|><|video_pad|><|video_pad|><|vision_end|><|vision_end|>"
      " end.";
  EXPECT_EQ(tokens, encode(expanded));
  EXPECT_EQ(tokens[media[2].offset - 1], *qwen3().token_id("<|vision_start|>"));
  EXPECT_EQ(media[2].offset - media[1].offset - 3,
            static_cast<int32_t>(encode("<|vision_end|><1.2 seconds><|vision_start|>").size()));
  // Runs must match the markers.
  EXPECT_THROW(tokenize_with_images(f.video_marker, f, qwen3(), media, runs), ApiError);
}

}  // namespace
}  // namespace sluice::api
