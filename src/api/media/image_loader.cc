#include "api/media/image_loader.h"

#include <functional>
#include <memory>
#include <span>

#include "api/media/data_url.h"
#include "api/media/media_fetch.h"
#include "api/media/media_memo.h"
#include "common/assert.h"
#include "common/profile.h"
#include "media/content_hash.h"
#include "media/decode.h"
#include "media/normalize.h"
#include "media/resize.h"
#include "media/smart_resize.h"

namespace sluice::api {

namespace {

// The model's processor, then rescale and normalize: Gemma 3 a BILINEAR resize to the
// encoder's square; Qwen2-VL llama.cpp's smart resize (media/smart_resize.h) to sides of
// multiples of 28 near the picture's.
struct Preprocess {
  int size = 0;
  bool dynamic = false;
  media::SmartResize limits;
  media::Normalization norm;

  media::GridSize target(int width, int height) const {
    if (dynamic) return media::smart_resize_size(width, height, limits);
    return {size, size};
  }
  media::Image resized(media::Image image) const {
    if (dynamic) return media::smart_resize(image, limits);
    if (image.width == size && image.height == size) return image;
    return media::resize(image, size, size, media::Resample::kBilinear);
  }
  std::vector<float> pixels(const media::Image& sized) const {
    return media::normalize_to_chw(sized, norm);  // [3, height, width]
  }
};

Preprocess preprocess_of(const VisionConfig& vc) {
  Preprocess pre;
  pre.size = static_cast<int>(vc.image_size);
  pre.dynamic = vc.dynamic_resolution();
  pre.limits = {static_cast<int>(vc.size_multiple()), vc.min_pixels, vc.max_pixels};
  for (int c = 0; c < 3; ++c)
    pre.norm.mean[c] = vc.image_mean[c], pre.norm.stddev[c] = vc.image_std[c];
  return pre;
}

// The size the processor gives a picture of width x height, and its placeholder tokens.
void size_as(const VisionTower& vision, const Preprocess& pre, int width, int height,
             ImageInput& im) {
  const media::GridSize t = pre.target(width, height);
  im.height = t.height, im.width = t.width;
  im.num_tokens = static_cast<int32_t>(vision.tokens_for({t.height, t.width}));
}

}  // namespace

ProcessedImage process_image(const VisionConfig& c, media::Image decoded) {
  const Preprocess pre = preprocess_of(c);
  const media::Image sized = pre.resized(std::move(decoded));
  return {pre.pixels(sized), sized.height, sized.width};
}

ImageInput image_input(const VisionTower& vision, media::Image decoded) {
  const Preprocess pre = preprocess_of(vision.config());
  const media::ContentHash hash = media::content_hash(decoded);
  ImageInput im;
  size_as(vision, pre, decoded.width, decoded.height, im);
  im.hash_lo = hash.low, im.hash_hi = hash.high;
  auto sized = std::make_shared<const media::Image>(pre.resized(std::move(decoded)));
  im.pixels = [sized, pre] { return pre.pixels(*sized); };
  return im;
}

ImageInput remembered_image(const VisionTower& vision, const SeenPicture& seen,
                            std::function<std::vector<float>()> pixels_again) {
  ImageInput im;
  im.hash_lo = seen.pixels.low, im.hash_hi = seen.pixels.high;
  size_as(vision, preprocess_of(vision.config()), seen.width, seen.height, im);
  im.pixels = std::move(pixels_again);
  return im;
}

std::function<std::vector<float>(const media::Image&)> processor(const VisionConfig& c) {
  return [pre = preprocess_of(c)](const media::Image& decoded) {
    return pre.pixels(pre.resized(decoded));
  };
}

namespace {

// A picture the memo has seen, whose pixels (if the engine must run the encoder) come from
// decoding `bytes_again()`: its file fetched or decoded once more.
ImageInput remembered(const VisionTower& vision, const SeenPicture& seen,
                      std::function<MediaBytes()> bytes_again) {
  return remembered_image(
      vision, seen, [bytes_again = std::move(bytes_again), process = processor(vision.config())] {
        const MediaBytes bytes = bytes_again();
        Result<media::Image> again = media::decode_image(std::span(bytes));
        SLUICE_ASSERT(again.ok(), "a picture that decoded once decodes again");
        return process(*again);
      });
}

}  // namespace

ImageInput load_image(const ModelContext& ctx, std::string_view url, const std::string& where) {
  const VisionTower* vision = ctx.engine ? ctx.engine->vision() : nullptr;
  if (!vision)
    throw invalid(where + ": this model takes no images (serve it with --mmproj FILE)", "messages");
  ImageMemo* memo = ctx.image_memo();
  MediaCounters* counters = ctx.media_counters();
  const size_t max_bytes = ctx.options.media.max_bytes;

  // A data URL is known by its base64 text's digest: a repeat (an agent resends its screenshots
  // every turn) is found without decoding it, and one sent lately by its kept text without a
  // digest. The pixels are made only if the engine runs the encoder: a picture either cache
  // holds costs a lookup (and, the first time, its decoding).
  const std::optional<std::string_view> base64 = data_url_base64(url);
  RecentDataUrls* recent = base64 ? ctx.recent_data_urls() : nullptr;
  auto again_from = [max_bytes](std::shared_ptr<const std::string> text) {
    return [text = std::move(text), max_bytes] {
      MediaFetchResult again = decode_data_url(*text, max_bytes);
      SLUICE_ASSERT(again.ok(), "a data URL that decoded once decodes again");
      return std::move(again.bytes());
    };
  };
  if (recent) {
    if (auto hit = recent->find(url)) {
      if (counters) ++counters->image_memo_hits;
      return remembered(*vision, hit->seen, again_from(std::move(hit->url)));
    }
  }
  std::optional<media::ContentHash> key;
  if (memo && base64) {
    profile::WallScope t(profile::enabled() ? "api image digest" : "");
    key = media::tagged_hash(
        "sluice data URL\n",
        std::span(reinterpret_cast<const uint8_t*>(base64->data()), base64->size()));
    if (const auto seen = memo->find(*key)) {
      if (counters) ++counters->image_memo_hits;
      std::shared_ptr<const std::string> text = recent ? recent->insert(url, *seen) : nullptr;
      if (!text) text = std::make_shared<const std::string>(url);
      return remembered(*vision, *seen, again_from(std::move(text)));
    }
  }
  MediaFetchResult fetched = fetch_media(url, ctx.options.media);
  if (!fetched) throw media_api_error(fetched.error(), "messages");
  auto bytes = std::make_shared<const MediaBytes>(std::move(fetched.bytes()));
  if (!key) {
    key = media::bytes_hash(*bytes);
    if (const auto seen = memo ? memo->find(*key) : std::nullopt) {
      if (counters) ++counters->image_memo_hits;
      return remembered(*vision, *seen, [bytes] { return *bytes; });
    }
  }
  if (counters) ++counters->image_decodes;
  Result<media::Image> decoded = media::decode_image(std::span(*bytes));
  if (!decoded) throw invalid(where + ": " + decoded.error(), "messages");
  const int width = decoded->width, height = decoded->height;
  ImageInput im = image_input(*vision, std::move(*decoded));
  const SeenPicture seen{{.high = im.hash_hi, .low = im.hash_lo}, width, height};
  if (memo) memo->insert(*key, seen);
  if (recent) recent->insert(url, seen);
  return im;
}

}  // namespace sluice::api
