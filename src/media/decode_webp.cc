// WebP through libwebp's animation decoder, as Pillow reads every WebP (still or animated): the
// first frame drawn on a transparent-black canvas, as RGBA; the alpha is then dropped.
#include <webp/decode.h>
#include <webp/demux.h>

#include <memory>

#include "media/decoders.h"

namespace sluice::media::detail {
namespace {

struct DemuxDeleter {
  void operator()(WebPDemuxer* d) const { WebPDemuxDelete(d); }
};
struct AnimDecoderDeleter {
  void operator()(WebPAnimDecoder* d) const { WebPAnimDecoderDelete(d); }
};

}  // namespace

Result<Image> decode_webp(std::span<const uint8_t> bytes, const DecodeLimits& limits) {
  const WebPData data = {bytes.data(), bytes.size()};
  {  // The canvas size from the container, before the decoder allocates the canvas.
    std::unique_ptr<WebPDemuxer, DemuxDeleter> demux(WebPDemux(&data));
    if (!demux) return corrupt("WebP", "cannot parse the RIFF container");
    const auto width = WebPDemuxGetI(demux.get(), WEBP_FF_CANVAS_WIDTH);
    const auto height = WebPDemuxGetI(demux.get(), WEBP_FF_CANVAS_HEIGHT);
    SLUICE_RETURN_IF_ERROR(check_size(width, height, limits));
  }
  WebPAnimDecoderOptions options;
  if (!WebPAnimDecoderOptionsInit(&options)) return corrupt("WebP", "libwebp version mismatch");
  options.color_mode = MODE_RGBA;  // not premultiplied
  options.use_threads = 0;
  std::unique_ptr<WebPAnimDecoder, AnimDecoderDeleter> decoder(WebPAnimDecoderNew(&data, &options));
  if (!decoder) return corrupt("WebP", "cannot parse the image headers");
  WebPAnimInfo info;
  if (!WebPAnimDecoderGetInfo(decoder.get(), &info)) return corrupt("WebP", "no image information");
  uint8_t* rgba = nullptr;  // [height, width, 4], owned by the decoder
  int timestamp = 0;
  if (!WebPAnimDecoderGetNext(decoder.get(), &rgba, &timestamp)) {
    return corrupt("WebP", "cannot decode the first frame");
  }
  Image image;
  image.width = static_cast<int>(info.canvas_width);
  image.height = static_cast<int>(info.canvas_height);
  const size_t n = size_t{info.canvas_width} * info.canvas_height;
  image.rgb.resize(n * 3);
  for (size_t i = 0; i < n; ++i) {
    for (int c = 0; c < 3; ++c) image.rgb[3 * i + c] = rgba[4 * i + c];
  }
  return image;
}

}  // namespace sluice::media::detail
