// GIF through giflib: the first frame, drawn the way Pillow draws it. The canvas is the logical
// screen (grown to hold a frame that overhangs it), filled with the frame's transparent index if
// it has one, else index 0; the frame's pixels are copied in as they are (no blending), and the
// indices go through the local palette, else the global one, else a gray ramp.
#include <gif_lib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "media/decoders.h"

namespace sluice::media::detail {
namespace {

struct Reader {
  std::span<const uint8_t> bytes;
  size_t offset = 0;
};

int read_bytes(GifFileType* gif, GifByteType* out, int n) {
  auto* r = static_cast<Reader*>(gif->UserData);
  const size_t k = std::min(static_cast<size_t>(std::max(n, 0)), r->bytes.size() - r->offset);
  std::memcpy(out, r->bytes.data() + r->offset, k);
  r->offset += k;
  return static_cast<int>(k);
}

struct GifCloser {
  void operator()(GifFileType* gif) const { DGifCloseFile(gif, nullptr); }
};
using GifPtr = std::unique_ptr<GifFileType, GifCloser>;

Status gif_error_code(int code) {
  const char* message = GifErrorString(code);
  return corrupt("GIF", message != nullptr ? message : "giflib error " + std::to_string(code));
}

Status gif_error(const GifFileType* gif) {
  return gif_error_code(gif->Error);
}

// index -> RGB. Entries past the palette are black, as in Pillow; a palette that is the identity
// gray ramp (which Pillow opens as mode L) and no palette at all give gray = index.
std::array<std::array<uint8_t, 3>, 256> color_table(const ColorMapObject* map) {
  std::array<std::array<uint8_t, 3>, 256> table{};
  bool identity = true;
  for (int i = 0; map != nullptr && i < std::min(map->ColorCount, 256); ++i) {
    const GifColorType& c = map->Colors[i];
    table[i] = {c.Red, c.Green, c.Blue};
    identity = identity && c.Red == i && c.Green == i && c.Blue == i;
  }
  if (identity) {
    for (int i = 0; i < 256; ++i) table[i] = {uint8_t(i), uint8_t(i), uint8_t(i)};
  }
  return table;
}

// Rows in the order the frame stores them: top to bottom, or the four interlace passes.
std::vector<int> row_order(int height, bool interlaced) {
  std::vector<int> rows;
  if (!interlaced) {
    for (int y = 0; y < height; ++y) rows.push_back(y);
    return rows;
  }
  constexpr int kStart[4] = {0, 4, 2, 1}, kStep[4] = {8, 8, 4, 2};
  for (int pass = 0; pass < 4; ++pass) {
    for (int y = kStart[pass]; y < height; y += kStep[pass]) rows.push_back(y);
  }
  return rows;
}

// Reads records up to the first image descriptor, noting the transparent index of a graphic
// control extension on the way.
Status read_to_first_image(GifFileType* gif, std::optional<int>& transparent) {
  for (;;) {
    GifRecordType type;
    if (DGifGetRecordType(gif, &type) == GIF_ERROR) return gif_error(gif);
    if (type == IMAGE_DESC_RECORD_TYPE) {
      if (DGifGetImageDesc(gif) == GIF_ERROR) return gif_error(gif);
      return Status::ok();
    }
    if (type == TERMINATE_RECORD_TYPE) return corrupt("GIF", "no image in the file");
    if (type != EXTENSION_RECORD_TYPE) continue;
    int code = 0;
    GifByteType* block = nullptr;  // [length, data...]
    if (DGifGetExtension(gif, &code, &block) == GIF_ERROR) return gif_error(gif);
    if (code == GRAPHICS_EXT_FUNC_CODE && block != nullptr && block[0] >= 4 && (block[1] & 1)) {
      transparent = block[4];
    }
    while (block != nullptr) {
      if (DGifGetExtensionNext(gif, &block) == GIF_ERROR) return gif_error(gif);
    }
  }
}

}  // namespace

Result<Image> decode_gif(std::span<const uint8_t> bytes, const DecodeLimits& limits) {
  Reader reader{bytes};
  int error = 0;
  GifPtr gif(DGifOpen(&reader, read_bytes, &error));
  if (!gif) return gif_error_code(error);
  std::optional<int> transparent;
  SLUICE_RETURN_IF_ERROR(read_to_first_image(gif.get(), transparent));
  const GifImageDesc& frame = gif->Image;
  const int64_t width = std::max<int64_t>(gif->SWidth, int64_t{frame.Left} + frame.Width);
  const int64_t height = std::max<int64_t>(gif->SHeight, int64_t{frame.Top} + frame.Height);
  SLUICE_RETURN_IF_ERROR(check_size(width, height, limits));
  if (frame.Width <= 0 || frame.Height <= 0) return corrupt("GIF", "the first frame is empty");

  std::vector<uint8_t> canvas(static_cast<size_t>(width * height), transparent.value_or(0));
  std::vector<GifPixelType> line(frame.Width);
  for (int y : row_order(frame.Height, frame.Interlace)) {
    if (DGifGetLine(gif.get(), line.data(), frame.Width) == GIF_ERROR) return gif_error(gif.get());
    std::copy(line.begin(), line.end(), canvas.begin() + (frame.Top + y) * width + frame.Left);
  }
  const auto table = color_table(frame.ColorMap != nullptr ? frame.ColorMap : gif->SColorMap);
  Image image;
  image.width = static_cast<int>(width);
  image.height = static_cast<int>(height);
  image.rgb.resize(canvas.size() * 3);
  for (size_t i = 0; i < canvas.size(); ++i) {
    std::memcpy(&image.rgb[3 * i], table[canvas[i]].data(), 3);
  }
  return image;
}

}  // namespace sluice::media::detail
