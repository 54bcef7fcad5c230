#pragma once
// One image a request names (URL or data URL) -> what the engine takes: fetched, decoded,
// sized and normalized as the model's image processor does, and hashed by its decoded pixels.
// Any failure is a 400 naming the image.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "api/media/media_memo.h"
#include "api/model_context.h"
#include "engine/request.h"
#include "media/image.h"
#include "model/vision/vision_config.h"

namespace sluice::api {

// `where` names the part in errors ("messages[1].content[0]"). The result's num_tokens are
// those of its processed size; its offset is left for the prompt builder.
ImageInput load_image(const ModelContext& ctx, std::string_view url, const std::string& where);

// A picture decoded already (a video's frame): hashed, sized and normalized as load_image does.
ImageInput image_input(const VisionTower& vision, media::Image decoded);

// A picture a memo has seen: hash and size from `seen`; `pixels_again` makes its normalized
// pixels [3, height, width] if the engine must run the encoder.
ImageInput remembered_image(const VisionTower& vision, const SeenPicture& seen,
                            std::function<std::vector<float>()> pixels_again);

// The model's processor as a function: a decoded picture -> its sized, normalized pixels.
std::function<std::vector<float>(const media::Image&)> processor(const VisionConfig& c);

// The model's processor, now (the CLI's image files): Gemma 3 BILINEAR to the square, Qwen2-VL
// llama.cpp's smart resize; normalized with the mmproj's mean and std.
struct ProcessedImage {
  std::vector<float> pixels;  // [3, height, width]
  int height = 0, width = 0;
};
ProcessedImage process_image(const VisionConfig& c, media::Image decoded);

}  // namespace sluice::api
