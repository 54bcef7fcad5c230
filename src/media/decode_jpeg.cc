// JPEG through libjpeg-turbo. libjpeg reports errors by calling error_exit (exit() by default):
// ours longjmps back to the stage that called libjpeg, and the decoder turns it into a Status.
#include <csetjmp>
#include <cstdio>  // before jpeglib.h, which needs FILE and size_t
#include <memory>
#include <string>
#include <vector>

// In this order: jpeglib.h's jconfig.h decides which messages jerror.h declares.
#include <jpeglib.h>
// (keeps clang-format from sorting the two)
#include <jerror.h>

#include "media/decoders.h"

namespace sluice::media::detail {
namespace {

// libjpeg-turbo's advice for untrusted progressive files: a scan limit bounds the decode time.
constexpr int kMaxScans = 500;

struct ErrorManager {
  jpeg_error_mgr pub;  // first: libjpeg passes &pub around as cinfo->err
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

struct JpegJob {
  jpeg_decompress_struct cinfo{};
  ErrorManager err{};
  jpeg_progress_mgr progress{};
  Image image;
  std::vector<uint8_t> cmyk_row;  // [width, 4]
};

[[noreturn]] void fail(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  longjmp(err->jump, 1);
}

// Warnings that mean missing or garbage pixels fail the decode (a truncated file is "Premature
// end of JPEG file"); the benign ones (extraneous bytes, unknown JFIF revision) are ignored.
void on_message(j_common_ptr cinfo, int msg_level) {
  if (msg_level >= 0) return;  // trace output
  switch (cinfo->err->msg_code) {
    case JWRN_JPEG_EOF:
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_ARITH_BAD_CODE:
    case JWRN_MUST_RESYNC:
      fail(cinfo);
    default:
      cinfo->err->num_warnings++;
  }
}

void on_progress(j_common_ptr cinfo) {
  auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (d->input_scan_number > kMaxScans) {
    auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
    std::snprintf(err->message, sizeof(err->message), "more than %d progressive scans", kMaxScans);
    longjmp(err->jump, 1);
  }
}

// Pillow reads 4-component JPEGs as Adobe-inverted CMYK ("CMYK;I") and converts to RGB as
// rgb = nk - nk * c / 255 with nk = 255 - k, rounded the way its MULDIV255 rounds.
void inverted_cmyk_to_rgb(const uint8_t* cmyk, uint8_t* rgb, int num_pixels) {  // [n, 4] -> [n, 3]
  for (int i = 0; i < num_pixels; ++i, cmyk += 4, rgb += 3) {
    const int nk = cmyk[3];  // 255 - (255 - raw k)
    for (int c = 0; c < 3; ++c) {
      const int t = (255 - cmyk[c]) * nk + 128;
      rgb[c] = static_cast<uint8_t>(nk - (((t >> 8) + t) >> 8));
    }
  }
}

// The two libjpeg stages, each under its own setjmp. Everything libjpeg touches lives in `job`
// and nothing with a destructor is made in these frames: the longjmp skips only C frames.
bool read_header(JpegJob& job, std::span<const uint8_t> bytes) {
  jpeg_decompress_struct& cinfo = job.cinfo;
  cinfo.err = jpeg_std_error(&job.err.pub);
  job.err.pub.error_exit = fail;
  job.err.pub.emit_message = on_message;
  if (setjmp(job.err.jump)) return false;
  jpeg_create_decompress(&cinfo);
  job.progress.progress_monitor = on_progress;
  cinfo.progress = &job.progress;
  jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  return true;
}

// Into job.image.rgb, sized by the caller; gray is replicated to RGB by libjpeg.
bool read_pixels(JpegJob& job, bool cmyk) {
  jpeg_decompress_struct& cinfo = job.cinfo;
  if (setjmp(job.err.jump)) return false;
  cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  if (cinfo.output_width != cinfo.image_width || cinfo.output_height != cinfo.image_height) {
    ERREXIT(&cinfo, JERR_NOTIMPL);
  }
  const size_t stride = size_t{cinfo.output_width} * 3;
  while (cinfo.output_scanline < cinfo.output_height) {
    uint8_t* out = job.image.rgb.data() + cinfo.output_scanline * stride;
    JSAMPROW row = cmyk ? job.cmyk_row.data() : out;
    jpeg_read_scanlines(&cinfo, &row, 1);
    if (cmyk) inverted_cmyk_to_rgb(job.cmyk_row.data(), out, static_cast<int>(cinfo.output_width));
  }
  // No jpeg_finish_decompress: the pixels are complete and nothing after them is needed.
  return true;
}

Status decode(JpegJob& job, std::span<const uint8_t> bytes, const DecodeLimits& limits) {
  if (!read_header(job, bytes)) return corrupt("JPEG", job.err.message);
  const jpeg_decompress_struct& cinfo = job.cinfo;
  SLUICE_RETURN_IF_ERROR(check_size(cinfo.image_width, cinfo.image_height, limits));
  const bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  if (cinfo.num_components != 1 && cinfo.num_components != 3 && !cmyk) {
    return Status::error(
        "image", "unsupported JPEG with " + std::to_string(cinfo.num_components) + " components");
  }
  job.image.width = static_cast<int>(cinfo.image_width);
  job.image.height = static_cast<int>(cinfo.image_height);
  job.image.rgb.resize(size_t{cinfo.image_width} * cinfo.image_height * 3);
  if (cmyk) job.cmyk_row.resize(size_t{cinfo.image_width} * 4);
  if (!read_pixels(job, cmyk)) return corrupt("JPEG", job.err.message);
  return Status::ok();
}

}  // namespace

Result<Image> decode_jpeg(std::span<const uint8_t> bytes, const DecodeLimits& limits) {
  auto job = std::make_unique<JpegJob>();
  const Status status = decode(*job, bytes, limits);
  jpeg_destroy_decompress(&job->cinfo);  // a no-op when create never ran
  if (!status) return status;
  return std::move(job->image);
}

}  // namespace sluice::media::detail
