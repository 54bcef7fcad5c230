#include "api/media/video_loader.h"

#include <memory>
#include <mutex>
#include <span>

#include "api/media/data_url.h"
#include "api/media/image_loader.h"
#include "api/media/media_fetch.h"
#include "api/media/video_clip.h"
#include "common/assert.h"
#include "media/content_hash.h"
#include "media/decode_video.h"
#include "media/normalize.h"

namespace sluice::api {

ApiError too_many_images(size_t count, int64_t limit) {
  return invalid("the request has " + std::to_string(count) +
                     " images (a video's frames count as images); this server takes at most " +
                     std::to_string(limit) + " (--max-images)",
                 "messages");
}

namespace {

media::FrameSampling sampling_of(const VideoOptions& vo) {
  return {.fps = vo.fps, .max_frames = vo.max_frames};
}

media::VideoLimits limits_of(const VideoOptions& vo) {
  media::VideoLimits limits;
  limits.max_duration_s = vo.max_duration_s;
  limits.timeout_s = vo.decode_timeout_s;
  return limits;
}

// A memo key: the sampling (which decides the frames) tagged onto the video's text or bytes.
media::ContentHash video_key(const VideoOptions& vo, std::string_view kind, std::string_view data) {
  const std::string tag = "sluice video " + std::string(kind) + "\nfps " + std::to_string(vo.fps) +
                          " max_frames " + std::to_string(vo.max_frames) + "\n";
  return media::tagged_hash(tag,
                            std::span(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
}

// A remembered video's frames, decoded again at most once, when the engine first needs the
// pixels of one of them (its caches lost them): each frame as `shape` makes it (normalized
// pixels for frames-as-images, the clip size for Qwen's clips).
template <class Frame>
class FramesAgain {
 public:
  FramesAgain(std::function<MediaBytes()> bytes_again,
              std::function<Frame(const media::Image&)> shape, const VideoOptions& vo, size_t count)
      : bytes_again_(std::move(bytes_again)), shape_(std::move(shape)), vo_(vo), count_(count) {}

  std::shared_ptr<const std::vector<Frame>> frames() {
    std::call_once(once_, [this] {
      const MediaBytes bytes = bytes_again_();
      media::VideoLimits limits = limits_of(vo_);
      limits.timeout_s = 86400;  // it decoded in time once; a busy server must not fail it now
      auto shaped = std::make_shared<std::vector<Frame>>();
      const Status decoded = media::decode_video(
          std::span(bytes), sampling_of(vo_), limits,
          [&](double, media::Image frame) { shaped->push_back(shape_(frame)); });
      SLUICE_ASSERT(decoded.ok() && shaped->size() == count_,
                    "a video that decoded once decodes again to as many frames");
      frames_ = std::move(shaped);
    });
    return frames_;
  }

 private:
  std::function<MediaBytes()> bytes_again_;
  std::function<Frame(const media::Image&)> shape_;
  VideoOptions vo_;
  size_t count_;
  std::once_flag once_;
  std::shared_ptr<const std::vector<Frame>> frames_;
};

LoadedVideo remembered_video(const VisionTower& vision, const VideoOptions& vo,
                             const SeenVideo& seen, std::function<MediaBytes()> bytes_again) {
  if (vision.takes_video()) {
    const media::GridSize size =
        clip_frame_size(vision.config(), seen.frames[0].width, seen.frames[0].height);
    auto again = std::make_shared<FramesAgain<media::Image>>(
        std::move(bytes_again), [size](const media::Image& f) { return clip_frame(f, size); }, vo,
        seen.frames.size());
    return video_clips(vision, seen, [again] { return again->frames(); });
  }
  auto again = std::make_shared<FramesAgain<std::vector<float>>>(
      std::move(bytes_again), processor(vision.config()), vo, seen.frames.size());
  LoadedVideo frames;
  for (size_t i = 0; i < seen.frames.size(); ++i)
    frames.inputs.push_back(
        remembered_image(vision, seen.frames[i], [again, i] { return (*again->frames())[i]; }));
  return frames;
}

}  // namespace

LoadedVideo load_video(const ModelContext& ctx, std::string_view url, const std::string& where,
                       size_t images_before) {
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
  VideoMemo* memo = ctx.video_memo();
  MediaCounters* counters = ctx.media_counters();
  auto checked = [&](LoadedVideo video) {
    const size_t count = images_before + images_counted(video.inputs);
    if (static_cast<int64_t>(count) > ctx.options.max_images)
      throw too_many_images(count, ctx.options.max_images);
    return video;
  };

  // As for images: a data URL is known by its base64 text, anything else by its fetched bytes;
  // a video seen before is neither decoded nor hashed frame by frame again.
  std::optional<media::ContentHash> key;
  if (const auto base64 = data_url_base64(url); memo && base64) {
    key = video_key(vo, "data URL", *base64);
    if (const auto seen = memo->find(*key)) {
      if (counters) ++counters->video_memo_hits;
      auto text = std::make_shared<const std::string>(url);
      return checked(remembered_video(*vision, vo, *seen, [text, max = vo.max_bytes] {
        MediaFetchResult again = decode_data_url(*text, max);
        SLUICE_ASSERT(again.ok(), "a data URL that decoded once decodes again");
        return std::move(again.bytes());
      }));
    }
  }
  MediaFetchOptions fetch = ctx.options.media;
  fetch.max_bytes = vo.max_bytes;
  MediaFetchResult fetched = fetch_media(url, fetch);
  if (!fetched) throw media_api_error(fetched.error(), "messages");
  auto bytes = std::make_shared<const MediaBytes>(std::move(fetched.bytes()));
  if (memo && !key) {
    key = video_key(vo, "file",
                    std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
    if (const auto seen = memo->find(*key)) {
      if (counters) ++counters->video_memo_hits;
      return checked(remembered_video(*vision, vo, *seen, [bytes] { return *bytes; }));
    }
  }

  if (counters) ++counters->video_decodes;
  LoadedVideo frames;
  SeenVideo seen;
  VideoClipBuilder clip(*vision);
  // Each frame is sized as it comes out of the decoder: a request holds at most
  // --video-max-frames frames of the encoder's size, never the video's.
  const Status decoded = media::decode_video(
      std::span(*bytes), sampling_of(vo), limits_of(vo), [&](double time_s, media::Image frame) {
        if (vision->takes_video()) return clip.add(time_s, std::move(frame));
        const int width = frame.width, height = frame.height;
        const ImageInput& im = frames.inputs.emplace_back(image_input(*vision, std::move(frame)));
        seen.frames.push_back({{.high = im.hash_hi, .low = im.hash_lo}, width, height});
        seen.times_s.push_back(time_s);
      });
  if (!decoded) throw invalid(where + ": " + decoded.message(), "messages");
  if (vision->takes_video()) {
    SLUICE_ASSERT(clip.size() > 0, "a decoded video has a frame");
    frames = clip.finish();
    seen = clip.seen();
  }
  frames = checked(std::move(frames));
  if (memo) memo->insert(*key, std::move(seen));
  return frames;
}

size_t images_counted(std::span<const ImageInput> inputs) {
  size_t n = 0;
  for (const ImageInput& im : inputs) n += im.is_video() ? static_cast<size_t>(im.num_frames) : 1;
  return n;
}

}  // namespace sluice::api
