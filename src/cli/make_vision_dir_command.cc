// `sluice make-vision-dir --vision PRESET --projection-dim N -o DIR` (hidden, for tests): writes
// make-model's vision tower PRESET into the VLM directory DIR as a Hugging Face (or, --mlx,
// mlx-vlm) checkpoint with convert/synthetic_vision.h's write_hf_vision_tower: the same weights
// `make-model --vision PRESET --mmproj F --seed S` writes to the mmproj F.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli/commands.h"
#include "convert/synthetic_vision.h"

namespace sluice {

namespace {

struct MakeVisionDirOptions {
  std::string vision, out, dtype = "BF16";
  int64_t projection_dim = 0;
  int vision_layers = 0;
  uint64_t seed = 0;
  bool mlx = false;
};

int make_vision_dir(const MakeVisionDirOptions& o) {
  auto c = vision_preset(o.vision, o.projection_dim);
  if (!c) return fail(c.error());
  if (o.vision_layers > 0) {  // as make-model --vision-layers
    c->num_layers = o.vision_layers;
    std::erase_if(c->deepstack_layers, [&](int64_t i) { return i >= c->num_layers; });
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(o.out, ec);
  if (!fs::exists(fs::path(o.out) / "config.json", ec))
    std::ofstream(fs::path(o.out) / "config.json") << "{}\n";
  const HfVisionWriteOptions w{o.mlx, o.seed, o.dtype};
  if (Status s = write_hf_vision_tower(*c, w, o.out); !s) return fail(s.message());
  std::fprintf(stderr, "wrote the %s tower into %s (%s, %s)\n", o.vision.c_str(), o.out.c_str(),
               o.mlx ? "mlx-vlm" : "transformers", o.dtype.c_str());
  return 0;
}

}  // namespace

Command register_make_vision_dir_command(CLI::App& app) {
  auto o = std::make_shared<MakeVisionDirOptions>();
  CLI::App* cmd = app.add_subcommand(
      "make-vision-dir", "Write make-model's vision tower into a Hugging Face VLM directory");
  cmd->group("");  // a test tool: not in --help
  cmd->add_option("--vision", o->vision, "Vision preset (as make-model --vision)")->required();
  cmd->add_option("--projection-dim", o->projection_dim, "The text model's hidden size")
      ->required();
  cmd->add_option("-o,--out", o->out, "The VLM directory (config.json is merged)")->required();
  cmd->add_option("--seed", o->seed, "make-model's --seed")->capture_default_str();
  cmd->add_option("--vision-layers", o->vision_layers, "Keep this many encoder layers");
  cmd->add_option("--dtype", o->dtype, "F32, F16 or BF16")->capture_default_str();
  cmd->add_flag("--mlx", o->mlx, "mlx-vlm's names and channels-last convolutions");
  return {cmd, [o] { return make_vision_dir(*o); }};
}

}  // namespace sluice
