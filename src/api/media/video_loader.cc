#include "api/media/video_loader.h"

#include <span>

#include "api/media/image_loader.h"
#include "api/media/media_fetch.h"
#include "media/decode_video.h"

namespace sluice::api {

ApiError too_many_images(size_t count, int64_t limit) {
  return invalid("the request has " + std::to_string(count) +
                     " images (a video's frames count as images); this server takes at most " +
                     std::to_string(limit) + " (--max-images)",
                 "messages");
}

std::vector<ImageInput> load_video(const ModelContext& ctx, std::string_view url,
                                   const std::string& where, size_t images_before) {
  const VisionTower* vision = ctx.engine ? ctx.engine->vision() : nullptr;
  if (!vision)
    throw invalid(where + ": this model takes no images or video (serve it with --mmproj FILE)",
                  "messages");
  if (!media::video_decoding_available())
    throw invalid(where +
                      ": this sluice was built without FFmpeg; install libavformat-dev, "
                      "libavcodec-dev, libavutil-dev and libswscale-dev and rebuild it to take "
                      "video, or send the frames as images",
                  "messages");
  const VideoOptions& vo = ctx.options.video;
  if (static_cast<int64_t>(images_before) >= ctx.options.max_images)
    throw too_many_images(images_before + 1, ctx.options.max_images);
  MediaFetchOptions fetch = ctx.options.media;
  fetch.max_bytes = vo.max_bytes;
  MediaFetchResult fetched = fetch_media(url, fetch);
  if (!fetched) throw media_api_error(fetched.error(), "messages");

  media::VideoLimits limits;
  limits.max_duration_s = vo.max_duration_s;
  limits.timeout_s = vo.decode_timeout_s;
  std::vector<ImageInput> frames;
  // Each frame is sized as it comes out of the decoder: a request holds at most
  // --video-max-frames frames of the encoder's size, never the video's.
  const Status decoded =
      media::decode_video(std::span(fetched.bytes()), {.fps = vo.fps, .max_frames = vo.max_frames},
                          limits, [&](double, media::Image frame) {
                            frames.push_back(image_input(*vision, std::move(frame)));
                          });
  if (!decoded) throw invalid(where + ": " + decoded.message(), "messages");
  if (static_cast<int64_t>(images_before + frames.size()) > ctx.options.max_images)
    throw too_many_images(images_before + frames.size(), ctx.options.max_images);
  return frames;
}

}  // namespace sluice::api
