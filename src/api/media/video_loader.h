#pragma once
// One video a request names (URL or data URL) -> what the engine takes: fetched by the image
// fetcher's rules (but --max-video-bytes), decoded through FFmpeg, sampled at --video-fps up to
// --video-max-frames (media/video_sampling.h). A tower that takes video (the Qwen-VL families)
// gets its clips (video_clip.h); any other the frames as images, each hashed, sized and
// normalized exactly as an image is. Either way a repeated video hits the encoder and prefix
// caches. Any failure is a 400 naming the part.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_error.h"
#include "api/media/video_clip.h"
#include "api/model_context.h"
#include "engine/request.h"

namespace sluice::api {

// `images_before`: the images (and frames) the request holds before this part; the frames
// count against --max-images with them. The results' offsets (and the frames' num_tokens) are
// left for the prompt builder.
LoadedVideo load_video(const ModelContext& ctx, std::string_view url, const std::string& where,
                       size_t images_before);

// What inputs count as against --max-images: an image one, a clip its frames.
size_t images_counted(std::span<const ImageInput> inputs);

// The 400 of a request over --max-images (`count`: its images, video frames included).
ApiError too_many_images(size_t count, int64_t limit);

}  // namespace sluice::api
