#include "api/media/image_loader.h"

#include <span>

#include "api/media/media_fetch.h"
#include "media/content_hash.h"
#include "media/decode.h"
#include "media/normalize.h"
#include "media/resize.h"

namespace sluice::api {

ImageInput load_image(const ServerContext& ctx, std::string_view url, const std::string& where) {
  const VisionTower* vision = ctx.engine ? ctx.engine->vision() : nullptr;
  if (!vision)
    throw invalid(where + ": this model takes no images (serve it with --mmproj FILE)", "messages");
  MediaFetchResult fetched = fetch_media(url, ctx.options.media);
  if (!fetched) throw media_api_error(fetched.error(), "messages");
  Result<media::Image> decoded = media::decode_image(std::span(fetched.bytes()));
  if (!decoded) throw invalid(where + ": " + decoded.error(), "messages");
  const media::ContentHash hash = media::content_hash(*decoded);
  // Gemma 3's processor: a BILINEAR resize to the encoder's square, rescale, normalize.
  const VisionConfig& vc = vision->config();
  const int size = static_cast<int>(vc.image_size);
  const media::Image sized = decoded->width == size && decoded->height == size
                                 ? std::move(*decoded)
                                 : media::resize(*decoded, size, size, media::Resample::kBilinear);
  media::Normalization norm;
  for (int c = 0; c < 3; ++c) norm.mean[c] = vc.image_mean[c], norm.stddev[c] = vc.image_std[c];
  ImageInput im;
  im.hash_lo = hash.low;
  im.hash_hi = hash.high;
  im.height = im.width = size;
  im.pixels = std::make_shared<const std::vector<float>>(media::normalize_to_chw(sized, norm));
  return im;
}

}  // namespace sluice::api
