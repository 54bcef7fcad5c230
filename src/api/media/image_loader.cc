#include "api/media/image_loader.h"

#include <span>

#include "api/media/media_fetch.h"
#include "common/assert.h"
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

ImageInput load_image(const ModelContext& ctx, std::string_view url, const std::string& where) {
  const VisionTower* vision = ctx.engine ? ctx.engine->vision() : nullptr;
  if (!vision)
    throw invalid(where + ": this model takes no images (serve it with --mmproj FILE)", "messages");
  MediaFetchResult fetched = fetch_media(url, ctx.options.media);
  if (!fetched) throw media_api_error(fetched.error(), "messages");
  auto bytes = std::make_shared<const std::vector<uint8_t>>(std::move(fetched.bytes()));
  const Preprocess pre = preprocess_of(vision->config());

  // The pixels are made only when the engine runs the encoder: a picture either cache holds
  // costs its digest (and, the first time, its decoding) and nothing more.
  const media::ContentHash key = media::bytes_hash(*bytes);
  ImageMemo* memo = ctx.image_memo();
  if (const auto seen = memo ? memo->find(key) : std::nullopt) {
    ImageInput im;
    im.hash_lo = seen->pixels.low, im.hash_hi = seen->pixels.high;
    size_as(*vision, pre, seen->width, seen->height, im);
    im.pixels = [bytes, pre] {
      Result<media::Image> again = media::decode_image(std::span(*bytes));
      SLUICE_ASSERT(again.ok(), "a picture that decoded once decodes again");
      return pre.pixels(pre.resized(std::move(*again)));
    };
    return im;
  }
  Result<media::Image> decoded = media::decode_image(std::span(*bytes));
  if (!decoded) throw invalid(where + ": " + decoded.error(), "messages");
  const int width = decoded->width, height = decoded->height;
  ImageInput im = image_input(*vision, std::move(*decoded));
  if (memo) memo->insert(key, {{.high = im.hash_hi, .low = im.hash_lo}, width, height});
  return im;
}

}  // namespace sluice::api
