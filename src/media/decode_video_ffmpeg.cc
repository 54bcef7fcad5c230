// decode_video() through FFmpeg's libraries. The bytes are demuxed from memory twice: once
// reading packets only, for every frame's time (so the sampling knows the duration, whatever the
// container claims), then decoding up to the last sampled frame.
#ifdef SLUICE_HAS_FFMPEG
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "media/decode_video.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

namespace sluice::media {

namespace {

using Clock = std::chrono::steady_clock;

// The demuxers opened (the first of FFmpeg's names for each): no playlist, concat or image
// sequence demuxer, which could read other files or URLs.
const char* const kContainers[] = {"mov", "matroska", "avi", "gif"};
constexpr const char* kContainerNames = "MP4/MOV, Matroska/WebM, AVI or GIF";

Status video_error(const std::string& what) {
  return Status::error("video", what);
}

std::string av_error(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, buf, sizeof buf);
  return buf;
}

std::string seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", s);
  return buf;
}

struct Deadline {
  Clock::time_point at;
  double limit_s = 0;
  bool passed() const { return Clock::now() > at; }
  Status error() const { return video_error("decoding took over " + seconds(limit_s) + " s"); }
  static int interrupt(void* self) { return static_cast<const Deadline*>(self)->passed(); }
};

// A failed FFmpeg call: the deadline's error when it interrupted the call, else corrupt input.
Status failed(int code, const Deadline& deadline) {
  if (deadline.passed()) return deadline.error();
  return video_error("corrupt or truncated video: " + av_error(code));
}

// The bytes as FFmpeg's I/O reads them: a seekable cursor over memory. Reading stops at the
// deadline (FFmpeg consults its interrupt callback only on its own protocols' reads).
struct MemoryInput {
  std::span<const uint8_t> bytes;
  const Deadline* deadline = nullptr;
  size_t pos = 0;

  static int read(void* self, uint8_t* buf, int size) {
    auto* in = static_cast<MemoryInput*>(self);
    if (in->deadline->passed()) return AVERROR_EXIT;
    const size_t n = std::min(static_cast<size_t>(size), in->bytes.size() - in->pos);
    if (n == 0) return AVERROR_EOF;
    std::memcpy(buf, in->bytes.data() + in->pos, n);
    in->pos += n;
    return static_cast<int>(n);
  }
  static int64_t seek(void* self, int64_t offset, int whence) {
    auto* in = static_cast<MemoryInput*>(self);
    const auto size = static_cast<int64_t>(in->bytes.size());
    if (whence & AVSEEK_SIZE) return size;
    int64_t to = offset;
    if ((whence & ~AVSEEK_FORCE) == SEEK_CUR)
      to += static_cast<int64_t>(in->pos);
    else if ((whence & ~AVSEEK_FORCE) == SEEK_END)
      to += size;
    else if ((whence & ~AVSEEK_FORCE) != SEEK_SET)
      return AVERROR(EINVAL);
    if (to < 0 || to > size) return AVERROR(EINVAL);
    in->pos = static_cast<size_t>(to);
    return to;
  }
};

// A container may name other files (MP4 references, playlists): none is ever opened.
int refuse_io_open(AVFormatContext*, AVIOContext**, const char*, int, AVDictionary**) {
  return AVERROR(EPERM);
}

bool allowed_container(const char* names) {
  const std::string first = std::string(names).substr(0, std::string(names).find(','));
  return std::any_of(std::begin(kContainers), std::end(kContainers),
                     [&](const char* c) { return first == c; });
}

// One opening of the bytes: the demuxer over MemoryInput and its best video stream.
class Input {
 public:
  Input() = default;
  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;
  ~Input() {
    avformat_close_input(&fmt_);  // leaves our custom I/O context alone
    if (io_) av_freep(&io_->buffer);
    avio_context_free(&io_);
  }

  Status open(std::span<const uint8_t> bytes, Deadline* deadline) {
    mem_ = {bytes, deadline, 0};
    constexpr int kBufferBytes = 64 << 10;
    auto* buffer = static_cast<uint8_t*>(av_malloc(kBufferBytes));
    if (buffer)
      io_ = avio_alloc_context(buffer, kBufferBytes, 0, &mem_, &MemoryInput::read, nullptr,
                               &MemoryInput::seek);
    if (!io_) {
      av_free(buffer);
      return video_error("out of memory");
    }
    const AVInputFormat* format = nullptr;
    if (av_probe_input_buffer2(io_, &format, nullptr, nullptr, 0, 0) < 0 || !format) {
      if (deadline->passed()) return deadline->error();
      return video_error("not a video (the container format was not recognized)");
    }
    if (!allowed_container(format->name)) {
      return video_error("unsupported container '" + std::string(format->name) + "' (expected " +
                         kContainerNames + ")");
    }
    fmt_ = avformat_alloc_context();
    if (!fmt_) return video_error("out of memory");
    fmt_->pb = io_;
    fmt_->flags |= AVFMT_FLAG_CUSTOM_IO;
    fmt_->interrupt_callback = {&Deadline::interrupt, deadline};
    fmt_->io_open = refuse_io_open;
    if (int rc = avformat_open_input(&fmt_, nullptr, format, nullptr); rc < 0)
      return failed(rc, *deadline);  // fmt_ is freed and null
    stream_ = av_find_best_stream(fmt_, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    if (stream_ < 0) return video_error("no video stream");
    for (unsigned i = 0; i < fmt_->nb_streams; ++i)
      if (static_cast<int>(i) != stream_) fmt_->streams[i]->discard = AVDISCARD_ALL;
    return Status::ok();
  }

  AVFormatContext* fmt() const { return fmt_; }
  int stream_index() const { return stream_; }
  AVStream* stream() const { return fmt_->streams[stream_]; }

 private:
  MemoryInput mem_;
  AVIOContext* io_ = nullptr;
  AVFormatContext* fmt_ = nullptr;
  int stream_ = -1;
};

struct PacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct CodecDeleter {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
using Packet = std::unique_ptr<AVPacket, PacketDeleter>;
using Frame = std::unique_ptr<AVFrame, FrameDeleter>;
using Codec = std::unique_ptr<AVCodecContext, CodecDeleter>;

// Every shown frame's timestamp (stream time base, ascending) and when the last one ends.
struct Timeline {
  std::vector<int64_t> pts;
  int64_t end = 0;
};

Result<Timeline> read_timeline(Input& in, const Deadline& deadline) {
  Timeline t;
  Packet pkt(av_packet_alloc());
  int rc;
  while ((rc = av_read_frame(in.fmt(), pkt.get())) >= 0) {
    // Packets an edit list cuts are decoded as references but never shown.
    if (pkt->stream_index == in.stream_index() && !(pkt->flags & AV_PKT_FLAG_DISCARD)) {
      const int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
      if (ts == AV_NOPTS_VALUE) return video_error("corrupt video: a frame has no timestamp");
      t.pts.push_back(ts);
      t.end = std::max(t.end, ts + std::max<int64_t>(pkt->duration, 0));
    }
    av_packet_unref(pkt.get());
    if (deadline.passed()) return deadline.error();
  }
  if (rc != AVERROR_EOF) return failed(rc, deadline);
  if (t.pts.empty()) return video_error("the video has no frames");
  std::sort(t.pts.begin(), t.pts.end());
  t.pts.erase(std::unique(t.pts.begin(), t.pts.end()), t.pts.end());
  const size_t n = t.pts.size();
  if (t.end <= t.pts.back() && n > 1)  // no durations: the last frame lasts an average frame
    t.end = t.pts.back() + (t.pts.back() - t.pts.front()) / static_cast<int64_t>(n - 1);
  t.end = std::max(t.end, t.pts.back());
  return t;
}

Status check_frame_size(int64_t width, int64_t height, const DecodeLimits& limits) {
  const std::string size = std::to_string(width) + "x" + std::to_string(height);
  if (width <= 0 || height <= 0) return video_error("frames have no pixels (" + size + ")");
  if (width > limits.max_side || height > limits.max_side || width * height > limits.max_pixels) {
    return video_error("frames are " + size + " pixels, over the limit of " +
                       std::to_string(limits.max_side) + " pixels a side and " +
                       std::to_string(limits.max_pixels) + " pixels");
  }
  return Status::ok();
}

// A decoded frame -> RGB8, honouring the colour matrix and range the stream declares.
Result<Image> to_rgb(const AVFrame& f) {
  SwsContext* sws = sws_getContext(
      f.width, f.height, static_cast<AVPixelFormat>(f.format), f.width, f.height, AV_PIX_FMT_RGB24,
      SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nullptr, nullptr, nullptr);
  if (!sws) {
    const char* name = av_get_pix_fmt_name(static_cast<AVPixelFormat>(f.format));
    return video_error(std::string("cannot convert frames of pixel format ") + (name ? name : "?"));
  }
  int *inv, *table, src_range, dst_range, brightness, contrast, saturation;
  if (sws_getColorspaceDetails(sws, &inv, &src_range, &table, &dst_range, &brightness, &contrast,
                               &saturation) >= 0) {  // YUV input (RGB input has no matrix)
    const int* matrix = inv;
    if (f.colorspace != AVCOL_SPC_UNSPECIFIED) matrix = sws_getCoefficients(f.colorspace);
    if (f.color_range != AVCOL_RANGE_UNSPECIFIED) src_range = f.color_range == AVCOL_RANGE_JPEG;
    sws_setColorspaceDetails(sws, matrix, src_range, table, dst_range, brightness, contrast,
                             saturation);
  }
  Image img;
  img.width = f.width;
  img.height = f.height;
  img.rgb.resize(static_cast<size_t>(f.width) * static_cast<size_t>(f.height) * 3);
  uint8_t* dst[4] = {img.rgb.data(), nullptr, nullptr, nullptr};
  int stride[4] = {f.width * 3, 0, 0, 0};
  sws_scale(sws, f.data, f.linesize, 0, f.height, dst, stride);
  sws_freeContext(sws);
  return img;
}

}  // namespace

bool video_decoding_available() {
  return true;
}

Status decode_video(std::span<const uint8_t> bytes, const FrameSampling& sampling,
                    const VideoLimits& limits,
                    const std::function<void(double time_s, Image frame)>& on_frame) {
  static std::once_flag quiet;  // corrupt input is the caller's error, not FFmpeg's log lines
  std::call_once(quiet, [] { av_log_set_level(AV_LOG_QUIET); });
  Deadline deadline;
  deadline.limit_s = limits.timeout_s;
  deadline.at = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(limits.timeout_s));

  // 1. Timestamps only: which frames to decode.
  std::map<int64_t, double> wanted;  // pts -> the moment it was sampled for
  AVRational time_base;
  {
    Input in;
    if (Status s = in.open(bytes, &deadline); !s) return s;
    time_base = in.stream()->time_base;
    Result<Timeline> timeline = read_timeline(in, deadline);
    if (!timeline) return timeline.status();
    const double tb = av_q2d(time_base);
    const double duration = static_cast<double>(timeline->end - timeline->pts.front()) * tb;
    if (duration > limits.max_duration_s) {
      return video_error("the video lasts " + seconds(duration) + " s, over the limit of " +
                         seconds(limits.max_duration_s) + " s");
    }
    std::vector<double> times;
    for (int64_t p : timeline->pts) times.push_back(static_cast<double>(p) * tb);
    for (const SampledFrame& s :
         sample_frames(times, static_cast<double>(timeline->end) * tb, sampling))
      wanted.emplace(timeline->pts[s.index], s.time_s);
  }

  // 2. Decode in order until the last wanted frame is out.
  Input in;
  if (Status s = in.open(bytes, &deadline); !s) return s;
  const AVCodecParameters* par = in.stream()->codecpar;
  if (par->width > 0 || par->height > 0)  // the header's size, before the decoder allocates
    if (Status s = check_frame_size(par->width, par->height, limits.frame); !s) return s;
  const AVCodec* decoder = avcodec_find_decoder(par->codec_id);
  if (!decoder)
    return video_error(std::string("no decoder for the codec '") + avcodec_get_name(par->codec_id) +
                       "'");
  Codec cc(avcodec_alloc_context3(decoder));
  if (!cc || avcodec_parameters_to_context(cc.get(), par) < 0) return video_error("out of memory");
  cc->thread_count = 1;
  cc->max_pixels = limits.frame.max_pixels;
  cc->pkt_timebase = in.stream()->time_base;
  if (int rc = avcodec_open2(cc.get(), decoder, nullptr); rc < 0) return failed(rc, deadline);

  Packet pkt(av_packet_alloc());
  Frame frame(av_frame_alloc());
  auto drain = [&]() -> Status {
    int rc;
    while ((rc = avcodec_receive_frame(cc.get(), frame.get())) >= 0) {
      const int64_t ts = frame->best_effort_timestamp != AV_NOPTS_VALUE
                             ? frame->best_effort_timestamp
                             : frame->pts;
      auto it = wanted.find(ts);
      if (it != wanted.end()) {
        if (Status s = check_frame_size(frame->width, frame->height, limits.frame); !s) return s;
        Result<Image> rgb = to_rgb(*frame);
        if (!rgb) return rgb.status();
        on_frame(it->second, std::move(*rgb));
        wanted.erase(it);
      }
      av_frame_unref(frame.get());
    }
    if (rc != AVERROR(EAGAIN) && rc != AVERROR_EOF) return failed(rc, deadline);
    return deadline.passed() ? deadline.error() : Status::ok();
  };
  while (!wanted.empty()) {
    int rc = av_read_frame(in.fmt(), pkt.get());
    if (rc == AVERROR_EOF) {
      avcodec_send_packet(cc.get(), nullptr);  // flush the frames the decoder holds
      if (Status s = drain(); !s) return s;
      break;
    }
    if (rc < 0) return failed(rc, deadline);
    if (pkt->stream_index == in.stream_index()) rc = avcodec_send_packet(cc.get(), pkt.get());
    av_packet_unref(pkt.get());
    if (rc < 0) return failed(rc, deadline);
    if (Status s = drain(); !s) return s;
  }
  if (!wanted.empty()) {
    return video_error("corrupt or truncated video: the frame at " +
                       seconds(wanted.begin()->second) + " s did not decode");
  }
  return Status::ok();
}

}  // namespace sluice::media
#endif  // SLUICE_HAS_FFMPEG
