#pragma once
// One image a request names (URL or data URL) -> what the engine takes: fetched, decoded,
// sized and normalized as the model's image processor does, and hashed by its decoded pixels.
// Any failure is a 400 naming the image.
#include <string>
#include <string_view>

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

// The model's processor, now (the CLI's image files): Gemma 3 BILINEAR to the square, Qwen2-VL
// llama.cpp's smart resize; normalized with the mmproj's mean and std.
struct ProcessedImage {
  std::vector<float> pixels;  // [3, height, width]
  int height = 0, width = 0;
};
ProcessedImage process_image(const VisionConfig& c, media::Image decoded);

}  // namespace sluice::api
