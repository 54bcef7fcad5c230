#pragma once
// Image files read for the CLI's vision commands (vision-embed, logits): decoded and
// preprocessed as llama.cpp's mtmd does for the tower (Gemma 3: BILINEAR to the square;
// Qwen2-VL: media/smart_resize.h), normalized with the mmproj's mean and std.
#include <string>
#include <vector>

#include "common/status.h"
#include "media/content_hash.h"
#include "media/image.h"
#include "model/vision/vision_config.h"

namespace sluice {

struct ImageFile {
  std::vector<float> pixels;  // [3, size.height, size.width]
  ImageSize size;
  media::ContentHash hash;  // of the decoded picture (the engine's cache key)
};

// One image file decoded as it is stored ("[where] PATH: what" errors).
Result<media::Image> decode_image_file(const std::string& path, const std::string& where);

// "[where] PATH: what" errors (cannot open, cannot decode).
Result<std::vector<ImageFile>> read_image_files(const std::vector<std::string>& paths,
                                                const VisionConfig& c, const std::string& where);

}  // namespace sluice
