// `sluice vision-embed --mmproj F --pixels P.f32 -o OUT.f32`: runs only a VLM's vision tower
// (encoder + projector) on already preprocessed images, for checks against llama.cpp's mtmd.
// P.f32: little-endian float32 [num_images, 3, S, S] (S = the mmproj's image size, RGB planes,
// normalized with its image_mean/std); OUT.f32: [num_images * tokens_per_image, text_hidden].
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <vector>

#include "backend/backend.h"
#include "cli/commands.h"
#include "model/vision/vision_tower.h"

namespace sluice {

namespace {

struct VisionEmbedOptions {
  std::string mmproj, pixels, out, device = "cpu";
  int threads = 0;
  int repeat = 1;
};

int vision_embed(const VisionEmbedOptions& o) {
  auto backend = make_backend(o.device, o.threads);
  if (!backend) return fail(backend.error());
  auto tower = VisionTower::load(o.mmproj, **backend);
  if (!tower) return fail(tower.error());
  VisionTower& t = **tower;
  std::ifstream in(o.pixels, std::ios::binary | std::ios::ate);
  if (!in) return fail("[vision-embed] " + o.pixels + ": cannot open");
  const auto bytes = static_cast<int64_t>(in.tellg());
  const int64_t image_floats = 3 * t.image_size() * t.image_size();
  const int64_t image_bytes = image_floats * static_cast<int64_t>(sizeof(float));
  if (bytes <= 0 || bytes % image_bytes != 0)
    return fail("[vision-embed] " + o.pixels + ": " + std::to_string(bytes) +
                " bytes is not a whole number of float32 images [3, " +
                std::to_string(t.image_size()) + ", " + std::to_string(t.image_size()) + "]");
  const int64_t num_images = bytes / image_bytes;
  std::vector<float> pixels(static_cast<size_t>(num_images * image_floats));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(pixels.data()), bytes);
  std::vector<float> out(
      static_cast<size_t>(num_images * t.tokens_per_image() * t.embedding_dim()));
  double ms = 0.0;  // the last run's (the first also places buffers and warms caches)
  for (int r = 0; r < std::max(1, o.repeat); ++r) {
    const auto start = std::chrono::steady_clock::now();
    t.encode(pixels.data(), num_images, out.data());
    ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }
  std::ofstream f(o.out, std::ios::binary);
  f.write(reinterpret_cast<const char*>(out.data()),
          static_cast<std::streamsize>(out.size() * sizeof(float)));
  if (!f) return fail("[vision-embed] " + o.out + ": cannot write");
  std::fprintf(stderr, "encoded %lld image(s) into %lld x %lld soft tokens in %.1f ms (%s)\n",
               static_cast<long long>(num_images),
               static_cast<long long>(num_images * t.tokens_per_image()),
               static_cast<long long>(t.embedding_dim()), ms, (*backend)->name().c_str());
  return 0;
}

}  // namespace

Command register_vision_embed_command(CLI::App& app) {
  auto o = std::make_shared<VisionEmbedOptions>();
  CLI::App* cmd = app.add_subcommand(
      "vision-embed", "Run a VLM's vision tower (mmproj GGUF) on preprocessed float32 images");
  cmd->add_option("--mmproj", o->mmproj, "llama.cpp mmproj GGUF (projector type gemma3)")
      ->required();
  cmd->add_option("--pixels", o->pixels,
                  "float32 [images, 3, S, S], normalized with the mmproj's image_mean/std")
      ->required();
  cmd->add_option("-o,--out", o->out, "Output float32 [images * tokens, text_hidden]")->required();
  cmd->add_option("--device", o->device, "cpu, cuda or auto")->capture_default_str();
  cmd->add_option("--threads", o->threads, "CPU threads (0: all cores)");
  cmd->add_option("--repeat", o->repeat, "Encode this many times and report the last (timing)")
      ->capture_default_str();
  return {cmd, [o] { return vision_embed(*o); }};
}

}  // namespace sluice
