#pragma once
// Chat messages (OpenAI shape) -> the model's chat template -> prompt token ids. Both protocols
// use it: the Anthropic routes convert their messages to this shape first.
#include <cstdint>
#include <ctime>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/media/video_clip.h"
#include "api/model_context.h"

namespace sluice::api {

// An image part of the messages: its URL (or data URL) and where it was ("messages[1].content[0]"),
// or what a video part loaded already: one of its frames, or its clips (ImageInput::is_video) and
// their labels (api/media/video_clip.h).
struct ImagePart {
  std::string_view url;  // into ChatPromptInput::messages, which outlives the parts
  std::string where;
  std::vector<ImageInput> loaded;   // empty: an image to load
  std::vector<std::string> labels;  // Qwen3-VL: each clip's timestamp text
};

// A video part's URL -> its frames or its clips, loaded (api/media/video_loader.h).
using VideoLoader = std::function<LoadedVideo(const std::string& url, const std::string& where)>;

struct ChatPromptInput {
  nlohmann::ordered_json messages;  // [{role, content (string | [parts]), tool_calls?, ...}]
  nlohmann::ordered_json tools;     // null or [{type:"function", function:{...}}]
  nlohmann::ordered_json kwargs;    // null or object: extra template variables (enable_thinking)
  bool add_generation_prompt = true;
  std::optional<std::tm> now;  // the date prompts show; unset: SLUICE_FIXED_DATE, else today
  // Set: image parts are collected here and reach the template as {type:"image"}; null: they
  // are a 400 (a model without a vision tower).
  std::vector<ImagePart>* images = nullptr;
  // Set (with `images`): a video part becomes one {type:"video"} part (a clip, for towers that
  // take video) or its sampled frames, each an image part in its place; empty: video parts are a
  // 400.
  VideoLoader load_video;
};

struct ChatPrompt {
  std::string text;
  std::vector<int32_t> tokens;
  std::vector<ImageInput> images;  // with their placeholder ranges in `tokens`
};

// Validates roles and content (400 naming "messages"), normalizes content-part lists of text to
// strings (joined with "\n"; other part types are rejected), renders, tokenizes (special tokens
// in the rendered text are parsed as such; no BOS added beyond what the template writes). A
// vision model's image parts are fetched, decoded and preprocessed (api/media/) and their
// placeholder tokens laid out as its processor does; a video part is one video placeholder run
// (Qwen2-VL family; Qwen3-VL's holds a run per temporal patch) or its frames, as images.
// Harmony templates (ctx.harmony_prompt) are rendered by harmony_prompt.h. strftime_now and the
// harmony date read SLUICE_FIXED_DATE when it is set.
ChatPrompt build_chat_prompt(const ModelContext& ctx, ChatPromptInput in);

// The rendering step alone: with `tpl` (and the tokenizer's bos / eos texts), or harmony's
// renderer when `tpl` is null.
std::string render_chat_text(const ChatTemplate* tpl, const ChatPromptInput& in,
                             const std::string& bos, const std::string& eos);

// How a raw prompt's text becomes tokens (completions, /tokenize): the tokenizer's BOS rule,
// and special-token text (<|im_start|>) as those tokens, as vLLM and llama.cpp's server read it.
inline EncodeOptions raw_prompt_encoding() {
  return EncodeOptions{.add_special = true, .parse_special = true};
}
// A plain prompt (completions), encoded as raw_prompt_encoding() says.
std::vector<int32_t> tokenize_prompt(const ModelContext& ctx, const std::string& text);

}  // namespace sluice::api
