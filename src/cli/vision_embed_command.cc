// `sluice vision-embed --mmproj F (--pixels P.f32 [--size HxW] | --image IMG ...) -o OUT.f32`:
// runs only a VLM's vision tower (encoder + projector), for checks against llama.cpp's mtmd. F:
// an mmproj GGUF or a VLM directory (its config.json's vision_config and tower tensors).
// P.f32: little-endian float32 [num_images, 3, H, W] (RGB planes, normalized with the mmproj's
// image_mean/std; H = W = its image size unless --size says otherwise, which Qwen2-VL towers
// allow). --image: decoded and preprocessed here as llama.cpp does for the projector (Gemma 3:
// BILINEAR to the square; Qwen2-VL: media/smart_resize.h), --pixels-out writes what was encoded.
// OUT.f32: [total tokens, text_hidden], the images' tokens one after another. --video: the
// --pixels images are one video's frames, encoded two by two (Qwen2-VL family towers).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <vector>

#include "backend/backend.h"
#include "cli/commands.h"
#include "cli/image_files.h"
#include "model/vision/vision_tower.h"

namespace sluice {

namespace {

struct VisionEmbedOptions {
  std::string mmproj, pixels, size, out, pixels_out, device = "cpu";
  std::vector<std::string> images;
  int threads = 0;
  int repeat = 1;
  bool video = false;
};

struct Pixels {
  std::vector<float> values;  // the images one after another, [3, height, width] each
  std::vector<ImageSize> sizes;
};

Result<ImageSize> parse_size(const std::string& s, const VisionConfig& c) {
  if (s.empty()) return ImageSize{c.image_size, c.image_size};
  long long h = 0, w = 0;
  char x = 0, extra = 0;
  if (std::sscanf(s.c_str(), "%lld%c%lld%c", &h, &x, &w, &extra) != 3 || x != 'x' || h <= 0 ||
      w <= 0)
    return Status::error("vision-embed", "--size must be HEIGHTxWIDTH, not '" + s + "'");
  return ImageSize{h, w};
}

Result<Pixels> read_pixel_file(const VisionEmbedOptions& o, const VisionConfig& c) {
  SLUICE_ASSIGN_OR_RETURN(const ImageSize size, parse_size(o.size, c));
  if (std::string why = c.size_error(size.height, size.width); !why.empty())
    return Status::error("vision-embed", why);
  std::ifstream in(o.pixels, std::ios::binary | std::ios::ate);
  if (!in) return Status::error("vision-embed", o.pixels + ": cannot open");
  const auto bytes = static_cast<int64_t>(in.tellg());
  const int64_t image_floats = 3 * size.height * size.width;
  const int64_t image_bytes = image_floats * static_cast<int64_t>(sizeof(float));
  if (bytes <= 0 || bytes % image_bytes != 0)
    return Status::error("vision-embed", o.pixels + ": " + std::to_string(bytes) +
                                             " bytes is not a whole number of float32 images [3, " +
                                             std::to_string(size.height) + ", " +
                                             std::to_string(size.width) + "]");
  Pixels p;
  p.sizes.assign(static_cast<size_t>(bytes / image_bytes), size);
  p.values.resize(static_cast<size_t>(bytes) / sizeof(float));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(p.values.data()), bytes);
  return p;
}

// Each file decoded and preprocessed as llama.cpp's mtmd does for this projector.
Result<Pixels> read_images(const VisionEmbedOptions& o, const VisionConfig& c) {
  SLUICE_ASSIGN_OR_RETURN(const std::vector<ImageFile> files,
                          read_image_files(o.images, c, "vision-embed"));
  Pixels p;
  for (const ImageFile& f : files) {
    p.values.insert(p.values.end(), f.pixels.begin(), f.pixels.end());
    p.sizes.push_back(f.size);
  }
  return p;
}

Status write_f32(const std::string& path, const std::vector<float>& v) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(v.data()),
          static_cast<std::streamsize>(v.size() * sizeof(float)));
  if (!f) return Status::error("vision-embed", path + ": cannot write");
  return Status::ok();
}

int vision_embed(const VisionEmbedOptions& o) {
  if (o.pixels.empty() == o.images.empty())
    return fail("[vision-embed] give either --pixels or --image");
  if (!o.images.empty() && !o.size.empty())
    return fail("[vision-embed] --size describes a --pixels file (an --image has its own)");
  auto backend = make_backend(o.device, o.threads);
  if (!backend) return fail(backend.error());
  auto tower = VisionTower::load(o.mmproj, **backend);
  if (!tower) return fail(tower.error());
  VisionTower& t = **tower;
  auto pixels = o.images.empty() ? read_pixel_file(o, t.config()) : read_images(o, t.config());
  if (!pixels) return fail(pixels.error());
  if (!o.pixels_out.empty())
    if (Status s = write_f32(o.pixels_out, pixels->values); !s) return fail(s.message());
  if (o.video && (o.pixels.empty() || !t.takes_video()))
    return fail(
        "[vision-embed] --video takes a --pixels file of frames, for a tower that takes "
        "video (Qwen2-VL / Qwen2.5-VL with both frames of the patch Conv3d)");
  const int64_t num_frames = static_cast<int64_t>(pixels->sizes.size());
  int64_t tokens = 0;
  std::string sizes;
  for (const ImageSize& s : pixels->sizes) {
    tokens += t.tokens_for(s);
    sizes += (sizes.empty() ? "" : " ") + std::to_string(s.height) + "x" + std::to_string(s.width);
  }
  if (o.video) tokens = t.tokens_for_video(num_frames, pixels->sizes[0]);
  std::vector<float> out(static_cast<size_t>(tokens * t.embedding_dim()));
  double ms = 0.0;  // the last run's (the first also places buffers and warms caches)
  for (int r = 0; r < std::max(1, o.repeat); ++r) {
    const auto start = std::chrono::steady_clock::now();
    if (o.video)
      t.encode_video(pixels->values.data(), num_frames, pixels->sizes[0], out.data());
    else
      t.encode(pixels->values.data(), pixels->sizes, out.data());
    ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }
  if (Status s = write_f32(o.out, out); !s) return fail(s.message());
  std::fprintf(stderr, "encoded %zu %s (%s) into %lld x %lld soft tokens in %.1f ms (%s)\n",
               pixels->sizes.size(), o.video ? "video frame(s)" : "image(s)", sizes.c_str(),
               static_cast<long long>(tokens), static_cast<long long>(t.embedding_dim()), ms,
               (*backend)->name().c_str());
  return 0;
}

}  // namespace

Command register_vision_embed_command(CLI::App& app) {
  auto o = std::make_shared<VisionEmbedOptions>();
  CLI::App* cmd = app.add_subcommand(
      "vision-embed", "Run a VLM's vision tower (mmproj GGUF) on images or preprocessed pixels");
  cmd->add_option("--mmproj", o->mmproj,
                  "llama.cpp mmproj GGUF (projector gemma3, qwen2vl_merger, qwen2.5vl_merger or "
                  "qwen3vl_merger), or a Hugging Face / mlx-vlm VLM directory")
      ->required();
  cmd->add_option("--pixels", o->pixels,
                  "float32 [images, 3, H, W], normalized with the mmproj's image_mean/std");
  cmd->add_option("--size", o->size,
                  "HEIGHTxWIDTH of the --pixels images (default: the mmproj's square image size; "
                  "Qwen2-VL towers take any multiples of 28)");
  cmd->add_option("--image", o->images,
                  "Image files (PNG, JPEG, ...), preprocessed as llama.cpp does (repeatable)");
  cmd->add_option("--pixels-out", o->pixels_out, "Also write the encoded float32 pixels here");
  cmd->add_flag("--video", o->video,
                "The --pixels images are one video's frames (Qwen2-VL family: two per temporal "
                "patch, an odd count's last repeated)");
  cmd->add_option("-o,--out", o->out, "Output float32 [tokens, text_hidden]")->required();
  cmd->add_option("--device", o->device, "cpu, cuda or auto")->capture_default_str();
  cmd->add_option("--threads", o->threads, "CPU threads (0: all cores)");
  cmd->add_option("--repeat", o->repeat, "Encode this many times and report the last (timing)")
      ->capture_default_str();
  return {cmd, [o] { return vision_embed(*o); }};
}

}  // namespace sluice
