// `sluice make-model`: a deterministic random-weight model of any supported architecture,
// shape preset and file format, with a real tokenizer.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "cli/commands.h"
#include "common/env.h"
#include "convert/model_writer.h"
#include "convert/synthetic_bert.h"
#include "convert/synthetic_model.h"
#include "convert/synthetic_vision.h"
#include "model/arch/arch_spec.h"

namespace sluice {

namespace {

struct MakeModelOptions {
  std::string arch = "llama", preset = "tiny", format = "gguf-f16", tokenizer, out, dtype = "BF16";
  std::string head = "embedding";  // bert: embedding (BertModel) or classification (reranker)
  bool format_given = false;
  int group_size = 64;
  uint64_t seed = 0;
  int layers = 0;
  // VLMs (gemma3, qwen2vl, qwen3vl, ...): a vision preset and, for GGUF formats, where its mmproj
  // GGUF goes (a directory format holds the tower itself).
  std::string vision, mmproj, mmproj_type = "f16";
  int vision_layers = 0;
};

std::string default_tokenizer(const std::string& arch) {
  std::string root = std::string(SLUICE_SOURCE_DIR) + "/../shared/testdata";
  if (std::string env = env::value(env::Switch::kTestdata); !env.empty()) root = env;
  return root + (arch == "llama" ? "/tokenizers/llama3_2/tokenizer.json"
                                 : "/tokenizers/qwen3/tokenizer.json");
}

// BERT encoders: a safetensors directory in --dtype, with all-MiniLM-L6-v2's WordPiece tokenizer.
int make_bert(const MakeModelOptions& o) {
  if (o.format_given)
    return fail("[make-model] bert writes a safetensors directory; choose its tensors' --dtype");
  if (o.head != "embedding" && o.head != "classification")
    return fail("[make-model] --head must be embedding or classification");
  BertModelOptions b;
  b.preset = o.preset;
  b.classifier = o.head == "classification";
  b.dtype = o.dtype;
  b.seed = o.seed;
  b.layers = o.layers;
  b.tokenizer_path = o.tokenizer.empty() ? std::string(SLUICE_SOURCE_DIR) +
                                               "/models/all-minilm-l6-v2/tokenizer.json"
                                         : o.tokenizer;
  if (Status s = write_synthetic_bert(b, o.out); !s) return fail(s.message());
  std::fprintf(stderr, "wrote %s (bert %s, %s, %s)\n", o.out.c_str(), o.head.c_str(),
               o.preset.c_str(), o.dtype.c_str());
  return 0;
}

// The --vision preset's tower projecting to the text model's width, --vision-layers applied.
Result<VisionConfig> tower_config(const MakeModelOptions& o, int64_t text_hidden) {
  auto vc = vision_preset(o.vision, text_hidden);
  if (!vc) return vc;
  if (o.vision_layers > 0) {  // Qwen3-VL: the DeepStack layers the shorter tower still has
    vc->num_layers = o.vision_layers;
    std::erase_if(vc->deepstack_layers, [&](int64_t i) { return i >= vc->num_layers; });
  }
  return vc;
}

// The vision tower of a VLM directory (config.json and the text weights already there): its
// tensors, vision_config and preprocessor_config.json (convert/synthetic_vision.h).
int write_directory_tower(const MakeModelOptions& o, const VisionConfig& vc, bool mlx) {
  const HfVisionWriteOptions w{.mlx = mlx, .seed = o.seed, .float_dtype = o.dtype};
  if (Status s = write_hf_vision_tower(vc, w, o.out); !s) return fail(s.message());
  return 0;
}

// The vision tower of a VLM: an mmproj GGUF projecting to the text model's width.
int make_mmproj(const MakeModelOptions& o, int64_t text_hidden) {
  auto vc = tower_config(o, text_hidden);
  if (!vc) return fail(vc.error());
  MmprojWriteOptions m;
  m.seed = o.seed;
  m.name = "sluice-synthetic-mmproj-" + o.vision;
  m.matrix_type = o.mmproj_type == "f32"    ? GgufType::F32
                  : o.mmproj_type == "q8_0" ? GgufType::Q8_0
                                            : GgufType::F16;
  if (Status s = write_synthetic_mmproj(*vc, m, o.mmproj); !s) return fail(s.message());
  std::fprintf(
      stderr, "wrote %s (%s vision %s, %s, %lld layers, %lld tokens per image of %lld px)\n",
      o.mmproj.c_str(), projector_type_name(vc->projector), o.vision.c_str(), o.mmproj_type.c_str(),
      static_cast<long long>(vc->num_layers), static_cast<long long>(vc->tokens_per_image()),
      static_cast<long long>(vc->image_size));
  return 0;
}

int make_model(const MakeModelOptions& o) {
  if (o.arch == "bert") return make_bert(o);
  auto format = parse_output_format(o.format);
  if (!format) return fail(format.error());
  const bool gguf = is_gguf_format(*format);
  if (!o.vision.empty()) {
    const bool qwen3 = o.vision.rfind("qwen3vl", 0) == 0;
    const bool qwen = !qwen3 && o.vision.rfind("qwen", 0) == 0;
    if (!qwen && !qwen3 && o.arch != "gemma3")
      return fail("[make-model] --vision " + o.vision + " applies to --arch gemma3");
    if (qwen && o.arch != "qwen2vl")
      return fail("[make-model] --vision " + o.vision +
                  " applies to --arch qwen2vl (the text side of Qwen2.5-VL)");
    // qwen3: the text width of Qwen3-VL's text stack (its qwen3vl GGUF arch is the text side's)
    if (qwen3 && o.arch != "qwen3vl" && o.arch != "qwen3vlmoe" && o.arch != "qwen3")
      return fail("[make-model] --vision " + o.vision +
                  " applies to --arch qwen3vl, qwen3vlmoe or qwen3");
    if (gguf && o.mmproj.empty()) return fail("[make-model] --vision needs --mmproj FILE.gguf");
    if (!gguf && !o.mmproj.empty())
      return fail("[make-model] --mmproj applies to GGUF formats (a directory holds its tower)");
    if (!gguf && o.arch == "qwen3")
      return fail("[make-model] a Qwen3-VL directory's language model is --arch qwen3vl");
    if (o.mmproj_type != "f32" && o.mmproj_type != "f16" && o.mmproj_type != "q8_0")
      return fail("[make-model] --mmproj-type must be f32, f16 or q8_0");
  }
  if (o.head != "embedding") return fail("[make-model] --head applies to --arch bert only");
  const bool mlx = *format == OutputFormat::kMlx4 || *format == OutputFormat::kMlx8;
  // Qwen-VL language models exist only inside VLMs; Gemma 3's is one when it has a tower.
  const bool vlm_arch = o.arch == "qwen2vl" || o.arch == "qwen3vl" || o.arch == "qwen3vlmoe";
  WriteOptions w;
  w.vlm = !gguf && (vlm_arch || (o.arch == "gemma3" && !o.vision.empty()));
  w.format = *format;
  w.group_size = o.group_size;
  w.float_dtype = o.dtype;
  w.tokenizer_path = o.tokenizer.empty() ? default_tokenizer(o.arch) : o.tokenizer;
  w.name = "sluice-synthetic-" + o.arch + "-" + o.preset;
  if (o.group_size != 32 && o.group_size != 64 && o.group_size != 128)
    return fail("[make-model] --group-size must be 32, 64 or 128");
  auto vocab = tokenizer_vocab_size(w.tokenizer_path);
  if (!vocab) return fail(vocab.error());
  auto config = preset_config(o.preset, o.arch, *vocab);
  if (!config) return fail(config.error());
  if (o.layers > 0) config->num_layers = o.layers;
  std::optional<VisionConfig> tower;
  if (!o.vision.empty()) {
    auto vc = tower_config(o, config->hidden_size);
    if (!vc) return fail(vc.error());
    tower = *vc;
    w.mm_tokens_per_image = vc->tokens_per_image();
  }
  if (config->arch->deepstack && tower) {
    // The text model takes one deepstack slice per DeepStack merger of the tower it is paired with.
    config->num_deepstack_layers = tower->num_deepstack();
    if (config->num_deepstack_layers >= config->num_layers)
      return fail("[make-model] the tower's DeepStack layers outnumber the text model's layers");
  }
  const ModelConfig c = *config;
  const uint64_t seed = o.seed;
  const auto tensors = model_tensor_specs(c);
  const Status s = write_model(
      c, tensors, [&](const TensorSpec& t) { return synthetic_tensor(t, c, seed); }, w, o.out);
  if (!s) return fail(s.message());
  std::fprintf(stderr, "wrote %s (%s, %s, %lld layers, hidden %lld, vocab %lld)\n", o.out.c_str(),
               o.arch.c_str(), o.format.c_str(), static_cast<long long>(c.num_layers),
               static_cast<long long>(c.hidden_size), static_cast<long long>(c.vocab_size));
  if (!tower) return 0;
  return gguf ? make_mmproj(o, c.hidden_size) : write_directory_tower(o, *tower, mlx);
}

}  // namespace

Command register_make_model_command(CLI::App& app) {
  auto o = std::make_shared<MakeModelOptions>();
  CLI::App* cmd = app.add_subcommand("make-model", "Write a deterministic random-weight model");
  cmd->add_option("--arch", o->arch,
                  "llama, qwen2, qwen2vl, qwen3, qwen3moe, qwen3vl, qwen3vlmoe, gemma3, gpt-oss, "
                  "qwen35, qwen35moe, qwen3next or bert")
      ->capture_default_str();
  cmd->add_option(
         "--preset", o->preset,
         "tiny, qwen3-0.6b, llama3-8b, qwen2vl-7b; qwen3moe: tiny, moe-small, qwen3-30b-a3b; "
         "qwen3vl: tiny, qwen3vl-2b, qwen3vl-4b, qwen3vl-8b; qwen3vlmoe: tiny, qwen3vl-30b-a3b; "
         "gemma3: "
         "tiny, gemma3-270m, gemma3-1b, gemma3-4b; gpt-oss: tiny, gpt-oss-20b; qwen35: tiny, "
         "qwen3.5-0.8b, qwen3.5-9b; qwen35moe, qwen3next: tiny, qwen3.5-35b-a3b, "
         "qwen3-next-80b-a3b; bert: tiny, minilm-l6")
      ->capture_default_str();
  cmd->add_option("--head", o->head,
                  "bert: embedding (BertModel, mean pooling, normalized) or classification "
                  "(BertForSequenceClassification, one label: a reranker)")
      ->capture_default_str();
  cmd->add_option(
         "--format", o->format,
         "gguf-f16, gguf-q8_0, gguf-q4_0, gguf-q4_1, gguf-q4_k, gguf-mxfp4, safetensors-bf16, "
         "safetensors-mxfp4 (gpt-oss), mlx-4, mlx-8")
      ->capture_default_str();
  cmd->add_option("--group-size", o->group_size, "MLX quantization group size (32, 64, 128)")
      ->capture_default_str();
  cmd->add_option("--dtype", o->dtype, "MLX and bert float tensors: BF16, F16 or F32")
      ->capture_default_str();
  cmd->add_option("--tokenizer", o->tokenizer,
                  "tokenizer.json or GGUF (default: from shared testdata)");
  cmd->add_option("--seed", o->seed, "Seed of the random weights")->capture_default_str();
  cmd->add_option("--layers", o->layers, "Override the preset's layer count");
  cmd->add_option(
      "--vision", o->vision,
      "Also write a vision tower (GGUF formats: as llama.cpp's mmproj GGUF; directory formats: "
      "inside the transformers / mlx-vlm VLM directory): gemma3: tiny or gemma3-4b; qwen2vl: "
      "qwen25vl-tiny or qwen25vl-7b (Qwen2.5-VL's); qwen3vl, qwen3vlmoe or qwen3 (GGUF): "
      "qwen3vl-tiny, qwen3vl-4b or qwen3vl-8b (Qwen3-VL's)");
  cmd->add_option("--mmproj", o->mmproj, "Output mmproj .gguf of --vision (GGUF formats)");
  cmd->add_option("--mmproj-type", o->mmproj_type,
                  "The mmproj's matrices: f32, f16 or q8_0 (the converter's --outtype)")
      ->capture_default_str();
  cmd->add_option("--vision-layers", o->vision_layers,
                  "Override the vision preset's encoder layer count");
  cmd->add_option("-o,--out", o->out, "Output .gguf file or directory")->required();
  return {cmd, [o, cmd] {
            o->format_given = cmd->count("--format") > 0;
            return make_model(*o);
          }};
}

}  // namespace sluice
