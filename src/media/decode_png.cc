// PNG through libpng. libpng reports errors through png_error; ours longjmps (libpng's own
// jmp_buf) back to the stage that called libpng, and the decoder turns it into a Status.
#include <png.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "media/decoders.h"

namespace sluice::media::detail {
namespace {

struct PngJob {
  std::span<const uint8_t> bytes;
  size_t offset = 0;
  png_structp png = nullptr;
  png_infop info = nullptr;
  char message[256] = {};
  png_uint_32 width = 0, height = 0;  // from IHDR
  int depth = 0, color = 0;
  std::vector<uint8_t> pixels;  // [height, rowbytes]: RGB8, or 16-bit gray before clamping
  std::vector<png_bytep> rows;  // [height]
  Image image;
};

void on_error(png_structp png, png_const_charp message) {
  auto* job = static_cast<PngJob*>(png_get_error_ptr(png));
  std::snprintf(job->message, sizeof(job->message), "%s", message);
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}  // ancillary-chunk trouble: not the pixels

void read_bytes(png_structp png, png_bytep out, size_t n) {
  auto* job = static_cast<PngJob*>(png_get_io_ptr(png));
  if (n > job->bytes.size() - job->offset) png_error(png, "unexpected end of file");
  std::memcpy(out, job->bytes.data() + job->offset, n);
  job->offset += n;
}

// Pillow opens 16-bit gray as mode I;16, whose conversion to RGB clamps (not scales) to 255.
void clamped_gray16_to_rgb(const uint8_t* gray16, uint8_t* rgb, size_t n) {  // [n, 2] -> [n, 3]
  for (size_t i = 0; i < n; ++i) {
    const int v = (gray16[2 * i] << 8) | gray16[2 * i + 1];  // PNG samples are big-endian
    rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = static_cast<uint8_t>(std::min(v, 255));
  }
}

// The two libpng stages, each under setjmp. Everything libpng touches lives in `job` and nothing
// with a destructor is made in these frames: the longjmp skips only C frames.
bool read_info(PngJob& job) {
  if (setjmp(png_jmpbuf(job.png))) return false;
  png_set_read_fn(job.png, &job, read_bytes);
  png_read_info(job.png, job.info);
  job.width = png_get_image_width(job.png, job.info);
  job.height = png_get_image_height(job.png, job.info);
  job.depth = png_get_bit_depth(job.png, job.info);
  job.color = png_get_color_type(job.png, job.info);
  return true;
}

// Into job.pixels, sized by the caller: RGB8 rows, or the raw 16-bit gray rows when `gray16`.
// Pillow's modes: other 16-bit samples keep their high byte (RGB;16B, LA;16B), 1/2/4-bit gray
// scales to 0..255, palettes are looked up (tRNS ignored), alpha is dropped.
bool read_pixels(PngJob& job, bool gray16) {
  png_structp png = job.png;
  if (setjmp(png_jmpbuf(png))) return false;
  if (!gray16) {
    if (job.color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (job.color == PNG_COLOR_TYPE_GRAY && job.depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (job.depth == 16) png_set_strip_16(png);
    png_set_strip_alpha(png);
    if (!(job.color & PNG_COLOR_MASK_COLOR)) png_set_gray_to_rgb(png);
  }
  png_set_interlace_handling(png);
  png_read_update_info(png, job.info);
  if (png_get_rowbytes(png, job.info) != job.pixels.size() / job.height) {
    png_error(png, "unexpected row layout");
  }
  png_read_image(png, job.rows.data());
  return true;
}

Status decode(PngJob& job, const DecodeLimits& limits) {
  if (!read_info(job)) return corrupt("PNG", job.message);
  SLUICE_RETURN_IF_ERROR(check_size(job.width, job.height, limits));
  const bool gray16 = job.color == PNG_COLOR_TYPE_GRAY && job.depth == 16;
  const size_t rowbytes = size_t{job.width} * (gray16 ? 2 : 3);
  job.pixels.resize(rowbytes * job.height);
  job.rows.resize(job.height);
  for (png_uint_32 y = 0; y < job.height; ++y) job.rows[y] = job.pixels.data() + y * rowbytes;
  if (!read_pixels(job, gray16)) return corrupt("PNG", job.message);
  job.image.width = static_cast<int>(job.width);
  job.image.height = static_cast<int>(job.height);
  if (gray16) {
    job.image.rgb.resize(size_t{job.width} * job.height * 3);
    clamped_gray16_to_rgb(job.pixels.data(), job.image.rgb.data(), size_t{job.width} * job.height);
  } else {
    job.image.rgb = std::move(job.pixels);
  }
  return Status::ok();
}

uint32_t big_endian32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

}  // namespace

Result<Image> decode_png(std::span<const uint8_t> bytes, const DecodeLimits& limits) {
  // The size from IHDR (always the first chunk) before libpng reads on to the pixel data.
  if (bytes.size() >= 24 && std::memcmp(bytes.data() + 12, "IHDR", 4) == 0) {
    SLUICE_RETURN_IF_ERROR(
        check_size(big_endian32(bytes.data() + 16), big_endian32(bytes.data() + 20), limits));
  }
  auto job = std::make_unique<PngJob>();
  job->bytes = bytes;
  job->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, job.get(), on_error, on_warning);
  if (job->png != nullptr) job->info = png_create_info_struct(job->png);
  Status status = job->info != nullptr ? decode(*job, limits) : corrupt("PNG", "libpng failed");
  png_destroy_read_struct(&job->png, &job->info, nullptr);
  if (!status) return status;
  return std::move(job->image);
}

}  // namespace sluice::media::detail
