// `sluice logits`: run exactly the given token ids; write the last position's logits as raw
// little-endian float32 [vocab] (for comparisons against reference implementations). With
// --mmproj, each word `<image>` of --tokens stands for the next --image's placeholder tokens, and
// the prompt runs through the engine (scheduler, encoder, image positions) as a served one does.
// `<video>` stands for the --video frames as one clip (Qwen2-VL / Qwen2.5-VL towers). With
// --image-embeddings (a test path, cli/embedding_prompt.h), `<image>` stands for precomputed
// image rows instead.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <memory>
#include <sstream>

#include "api/media/image_prompt.h"
#include "api/media/video_clip.h"
#include "cli/commands.h"
#include "cli/default_model.h"
#include "cli/embedding_prompt.h"
#include "cli/image_files.h"
#include "cli/single_sequence.h"
#include "common/assert.h"
#include "engine/engine.h"
#include "engine/engine_config.h"
#include "model/model.h"

namespace sluice {

namespace {

struct LogitsOptions {
  std::string model, tokens, out, mmproj;
  std::vector<std::string> images;
  std::vector<std::string> video_frames;  // one video, its frames in order
  double video_fps = 2;
  std::vector<std::string> image_embeddings, image_grids;  // test path: precomputed rows
  int max_num_batched_tokens = 0;
  int threads = 0;
  std::string device = "cpu";
  std::string kv_cache_dtype = "auto";
  bool cpu_int8_activations = false;
};

Status write_floats(const std::string& path, std::span<const float> out) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return Status::error("logits", "cannot write " + path);
  const size_t written = std::fwrite(out.data(), sizeof(float), out.size(), f);
  if (std::fclose(f) != 0 || written != out.size())
    return Status::error("logits", "short write to " + path);
  return Status::ok();
}

// The --video frames as the one clip of a tower that takes video whole (Qwen2-VL, Qwen2.5-VL),
// sized and normalized as a served video_url's; frames are `1 / fps` seconds apart.
Result<ImageInput> read_video_clip(const LogitsOptions& o, const VisionTower& vision) {
  if (!vision.takes_video() || vision.config().projector == ProjectorType::kQwen3VL)
    return Status::error("logits",
                         "--video takes a tower that encodes a video as one clip (Qwen2-VL, "
                         "Qwen2.5-VL); Qwen3-VL's timestamped clips are not built here");
  if (!(o.video_fps > 0)) return Status::error("logits", "--video-fps must be positive");
  api::VideoClipBuilder clip(vision);
  for (const std::string& path : o.video_frames) {
    auto frame = decode_image_file(path, "logits");
    if (!frame) return frame.status();
    clip.add(static_cast<double>(clip.size()) / o.video_fps, std::move(*frame));
  }
  api::LoadedVideo video = clip.finish();
  SLUICE_ASSERT(video.inputs.size() == 1 && video.labels.empty(), "one clip");
  return std::move(video.inputs[0]);
}

// words: token ids, `<image>`s and at most one `<video>`. The engine returns the logits of every
// token id.
int logits_with_images(const LogitsOptions& o, const Model& model,
                       const std::vector<std::string>& words) {
  EngineConfig ec;
  ec.mmproj = o.mmproj;
  ec.num_threads = o.threads;
  ec.device = o.device;
  ec.kv_cache_dtype = o.kv_cache_dtype;
  ec.cpu_int8_activations = o.cpu_int8_activations;
  ec.max_num_batched_tokens = o.max_num_batched_tokens;
  ec.kv_cache_bytes = int64_t{256} << 20;
  auto engine = Engine::create(model, ec);
  if (!engine) return fail(engine.error());
  const VisionTower& vision = *(*engine)->vision();
  auto files = read_image_files(o.images, vision.config(), "logits");
  if (!files) return fail(files.error());
  const api::ImagePromptFormat format = api::image_prompt_format(vision, model.tokenizer());
  const int32_t pad = format.placeholder_id;
  EngineRequest req;
  req.id = "logits";
  req.output = PromptOutput::kLastLogits;
  size_t next = 0;
  for (const std::string& w : words) {
    if (w == "<video>") {
      if (format.video_placeholder_id < 0)
        return fail("[logits] the vocabulary has no video placeholder token");
      auto clip = read_video_clip(o, vision);
      if (!clip) return fail(clip.error());
      clip->offset = static_cast<int32_t>(req.prompt.size());
      req.prompt.insert(req.prompt.end(), clip->num_tokens, format.video_placeholder_id);
      req.images.push_back(std::move(*clip));
      continue;
    }
    if (w != "<image>") {
      req.prompt.push_back(static_cast<int32_t>(std::stol(w)));
      continue;
    }
    if (next == files->size()) return fail("[logits] more <image> words than --image files");
    auto file = std::make_shared<const ImageFile>(std::move((*files)[next++]));
    ImageInput im;
    im.offset = static_cast<int32_t>(req.prompt.size());
    im.num_tokens = static_cast<int32_t>(vision.tokens_for(file->size));
    im.hash_lo = file->hash.low, im.hash_hi = file->hash.high;
    im.height = static_cast<int32_t>(file->size.height);
    im.width = static_cast<int32_t>(file->size.width);
    im.pixels = [file] { return file->pixels; };
    req.prompt.insert(req.prompt.end(), im.num_tokens, pad);
    req.images.push_back(std::move(im));
  }
  if (next != files->size()) return fail("[logits] fewer <image> words than --image files");
  for (int32_t id = 0; id < model.config().vocab_size; ++id) req.logit_ids.push_back(id);
  auto stream = (*engine)->submit(std::move(req));
  if (!stream) return fail(stream.error());
  for (;;) {
    std::optional<RequestOutput> r = (*stream)->next();
    if (!r) continue;
    if (!r->error.empty()) return fail("[logits] " + r->error);
    if (!r->finished) continue;
    if (Status s = write_floats(o.out, r->prompt_output); !s) return fail(s.message());
    return 0;
  }
}

int logits(const LogitsOptions& o) {
  std::vector<int32_t> ids;
  std::vector<std::string> words;
  std::istringstream in(o.tokens);
  std::string word;
  while (in >> word) {
    words.push_back(word);
    if (word == "<image>" && (!o.mmproj.empty() || !o.image_embeddings.empty())) continue;
    if (word == "<video>" && !o.mmproj.empty()) continue;
    try {
      size_t used = 0;
      const long v = std::stol(word, &used);
      if (used != word.size() || v < 0 || v > INT32_MAX) throw std::invalid_argument(word);
      ids.push_back(static_cast<int32_t>(v));
    } catch (const std::exception&) {
      return fail("[logits] not a token id: '" + word + "'");
    }
  }
  if (words.empty()) return fail("[logits] --tokens is empty");
  if ((!o.images.empty() || !o.video_frames.empty()) && o.mmproj.empty())
    return fail("[logits] --image and --video need --mmproj");
  if (std::count(words.begin(), words.end(), "<video>") != (o.video_frames.empty() ? 0 : 1))
    return fail("[logits] --video frames go with exactly one <video> word");
  auto path = resolve_model_path(o.model);
  if (!path) return fail(path.error());
  auto model = Model::load(*path, optional_dtypes_for(o.device));
  if (!model) return fail(model.error());
  for (int32_t id : ids)
    if (id >= (*model)->config().vocab_size)
      return fail("[logits] token id " + std::to_string(id) + " is outside the vocabulary");
  if (!o.mmproj.empty()) return logits_with_images(o, **model, words);
  auto backend = make_backend(o.device, o.threads, o.cpu_int8_activations);
  if (!backend) return fail(backend.error());
  if (Status s = apply_kv_cache_dtype(o.kv_cache_dtype, **backend); !s) return fail(s.message());
  if (!o.image_embeddings.empty()) {
    if (o.image_grids.size() != o.image_embeddings.size())
      return fail("[logits] one --image-grid per --image-embeddings file");
    std::vector<EmbeddedImage> images;
    for (size_t i = 0; i < o.image_grids.size(); ++i) {
      EmbeddedImage im{o.image_embeddings[i]};
      if (std::sscanf(o.image_grids[i].c_str(), "%dx%d", &im.rows, &im.cols) != 2)
        return fail("[logits] --image-grid is ROWSxCOLS, not '" + o.image_grids[i] + "'");
      images.push_back(im);
    }
    auto out = logits_with_embeddings(**model, **backend, words, images, o.max_num_batched_tokens);
    if (!out) return fail(out.error());
    if (Status s = write_floats(o.out, *out); !s) return fail(s.message());
    return 0;
  }
  SingleSequence seq(**model, **backend, static_cast<int64_t>(ids.size()));
  if (Status s = write_floats(o.out, seq.feed(ids)); !s) return fail(s.message());
  return 0;
}

}  // namespace

Command register_logits_command(CLI::App& app) {
  auto opts = std::make_shared<LogitsOptions>();
  CLI::App* cmd = app.add_subcommand("logits", "Write the last position's logits for token ids");
  cmd->add_option("-m,--model", opts->model, "GGUF file or model directory (default: built-in)");
  cmd->add_option("--tokens", opts->tokens, "Token ids separated by spaces")->required();
  cmd->add_option("-o,--out", opts->out, "Output file (raw float32)")->required();
  cmd->add_option("--threads", opts->threads, "CPU threads (default: all cores)");
  cmd->add_option("--mmproj", opts->mmproj,
                  "Vision projector GGUF: --tokens may hold `<image>` words (run by the engine)");
  cmd->add_option("--image", opts->images, "An image file per `<image>` word, in order");
  cmd->add_option("--video", opts->video_frames,
                  "Image files: one video's frames, in order, for the `<video>` word");
  cmd->add_option("--video-fps", opts->video_fps, "Frames per second of --video")
      ->capture_default_str();
  cmd->add_option("--max-num-batched-tokens", opts->max_num_batched_tokens,
                  "With --mmproj: the engine's step budget (small: the prompt runs in chunks); "
                  "with --image-embeddings: the step size");
  cmd->add_option("--image-embeddings", opts->image_embeddings,
                  "Test path: raw float32 rows [rows * cols, hidden * (1 + deepstack)] per "
                  "`<image>` word, spliced in with no vision tower");
  cmd->add_option("--image-grid", opts->image_grids,
                  "ROWSxCOLS merged token grid of each --image-embeddings file");
  cmd->add_option("--device", opts->device, "cpu, cuda or auto")->capture_default_str();
  cmd->add_option("--kv-cache-dtype", opts->kv_cache_dtype,
                  "KV-cache element type: auto (the backend's: f16), f16 or f32 (CPU: exact)")
      ->check(CLI::IsMember({"auto", "f32", "f16"}))
      ->capture_default_str();
  cmd->add_flag("--cpu-int8-activations", opts->cpu_int8_activations,
                "CPU: 4-bit and Q8G32 weights x int8 activations (see `serve --help`)");
  return {cmd, [opts] { return logits(*opts); }};
}

}  // namespace sluice
