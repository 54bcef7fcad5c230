// hf_vision_config: transformers' configuration_*.py defaults and image processors' settings
// -> the VisionConfig the mmproj reader would give for the same tower (vision_config.cc).
#include "model/vision/hf_vision_config.h"

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/json_file.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

Status vision_error(const std::string& where, const std::string& what) {
  return Status::error("vision", where + ": " + what);
}

// Keys of one JSON object ("vision_config", "preprocessor_config.json"), absent or null ones
// taking the fallback.
class Keys {
 public:
  Keys(const json& j, std::string what, std::string where)
      : j_(j), what_(std::move(what)), where_(std::move(where)) {}

  Status fail(const std::string& what) const { return vision_error(where_, what); }
  std::string name(const std::string& key) const { return what_ + "." + key; }
  bool has(const std::string& key) const {
    return j_.is_object() && j_.contains(key) && !j_[key].is_null();
  }
  // A nested object (null when absent).
  const json& at(const std::string& key) const {
    static const json kNull;
    return has(key) ? j_[key] : kNull;
  }

  // A positive integer; patch sizes may be written [P, P].
  Result<int64_t> positive(const std::string& key, int64_t fallback) const {
    if (!has(key)) return fallback;
    json v = j_[key];
    if (v.is_array() && v.size() == 2 && v[0] == v[1]) v = v[0];
    if (!v.is_number_integer() || v.get<int64_t>() <= 0)
      return fail(name(key) + " must be a positive integer, not " + j_[key].dump());
    return v.get<int64_t>();
  }
  Result<double> number(const std::string& key, double fallback) const {
    if (!has(key)) return fallback;
    if (!j_[key].is_number() || !std::isfinite(j_[key].get<double>()))
      return fail(name(key) + " must be a number, not " + j_[key].dump());
    return j_[key].get<double>();
  }
  Result<std::string> text(const std::string& key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    if (!j_[key].is_string()) return fail(name(key) + " must be a string");
    return j_[key].get<std::string>();
  }
  Result<std::vector<int64_t>> integers(const std::string& key,
                                        std::vector<int64_t> fallback) const {
    if (!has(key)) return fallback;
    std::vector<int64_t> out;
    if (j_[key].is_array())
      for (const json& v : j_[key])
        if (v.is_number_integer() && v.get<int64_t>() >= 0) out.push_back(v.get<int64_t>());
    if (!j_[key].is_array() || out.size() != j_[key].size())
      return fail(name(key) + " must be an array of integers >= 0, not " + j_[key].dump());
    return out;
  }
  // Three floats per RGB channel (one number: the same for all three).
  Result<std::array<float, 3>> rgb(const std::string& key, std::array<float, 3> fallback) const {
    if (!has(key)) return fallback;
    const json& v = j_[key];
    std::array<float, 3> out{};
    for (int i = 0; i < 3; ++i) {
      const json& x = v.is_array() ? (v.size() == 3 ? v[i] : json()) : v;
      if (!x.is_number() || !std::isfinite(x.get<double>()))
        return fail(name(key) + " must be 3 numbers, not " + v.dump());
      out[i] = x.get<float>();
    }
    return out;
  }
  // A string key that must take one of `allowed` (the first is the default).
  Status one_of(const std::string& key, const std::vector<std::string>& allowed,
                const std::string& why) const {
    SLUICE_ASSIGN_OR_RETURN(std::string v, text(key, allowed.front()));
    for (const std::string& a : allowed)
      if (v == a) return Status::ok();
    return fail(name(key) + " '" + v + "' is not supported (" + why + ")");
  }

 private:
  const json& j_;
  std::string what_, where_;
};

constexpr std::array<float, 3> kClipMean{0.48145466f, 0.4578275f, 0.40821073f};
constexpr std::array<float, 3> kClipStd{0.26862954f, 0.26130258f, 0.27577711f};
constexpr std::array<float, 3> kHalf{0.5f, 0.5f, 0.5f};

Result<ProjectorType> family(const json& config, const std::string& where) {
  if (!config.contains("model_type") || !config["model_type"].is_string())
    return vision_error(where, "config.json has no model_type");
  const std::string t = config["model_type"].get<std::string>();
  if (t == "gemma3") return ProjectorType::kGemma3;
  if (t == "qwen2_vl") return ProjectorType::kQwen2VL;
  if (t == "qwen2_5_vl") return ProjectorType::kQwen25VL;
  if (t == "qwen3_vl" || t == "qwen3_vl_moe") return ProjectorType::kQwen3VL;
  return vision_error(where, "model_type '" + t +
                                 "' has no vision tower sluice runs (gemma3, qwen2_vl, qwen2_5_vl, "
                                 "qwen3_vl, qwen3_vl_moe)");
}

// head_dim from the width and head count, which must divide it.
Status set_heads(const Keys& v, VisionConfig& c, const std::string& width_key,
                 const std::string& heads_key) {
  if (c.hidden_size % c.num_heads != 0)
    return v.fail(v.name(width_key) + " " + std::to_string(c.hidden_size) +
                  " is not a multiple of " + v.name(heads_key) + " " + std::to_string(c.num_heads));
  c.head_dim = c.hidden_size / c.num_heads;
  return Status::ok();
}

Status check_channels(const Keys& v, const std::string& key) {
  SLUICE_ASSIGN_OR_RETURN(int64_t channels, v.positive(key, 3));
  if (channels != 3) return v.fail(v.name(key) + " must be 3 (RGB)");
  return Status::ok();
}

// SigLIP and the Gemma 3 projector (Gemma3Config, SiglipVisionConfig, Gemma3ImageProcessor).
Status read_gemma3(const json& config, const Keys& v, const Keys& p, const std::string& where,
                   VisionConfig& c) {
  SLUICE_ASSIGN_OR_RETURN(c.hidden_size, v.positive("hidden_size", 768));
  SLUICE_ASSIGN_OR_RETURN(c.intermediate_size, v.positive("intermediate_size", 3072));
  SLUICE_ASSIGN_OR_RETURN(c.num_layers, v.positive("num_hidden_layers", 12));
  SLUICE_ASSIGN_OR_RETURN(c.num_heads, v.positive("num_attention_heads", 12));
  SLUICE_ASSIGN_OR_RETURN(c.image_size, v.positive("image_size", 224));
  SLUICE_ASSIGN_OR_RETURN(c.patch_size, v.positive("patch_size", 16));
  SLUICE_ASSIGN_OR_RETURN(double eps, v.number("layer_norm_eps", 1e-6));
  if (!(eps > 0.0)) return v.fail(v.name("layer_norm_eps") + " must be positive");
  c.layer_norm_eps = static_cast<float>(eps);
  SLUICE_RETURN_IF_ERROR(v.one_of("hidden_act", {"gelu_pytorch_tanh", "gelu_new"},
                                  "SigLIP's MLP is tanh GELU: gelu_pytorch_tanh"));
  SLUICE_RETURN_IF_ERROR(check_channels(v, "num_channels"));
  SLUICE_RETURN_IF_ERROR(set_heads(v, c, "hidden_size", "num_attention_heads"));
  const Keys top(config, "config", where), text(top.at("text_config"), "text_config", where);
  SLUICE_ASSIGN_OR_RETURN(c.projection_dim, text.positive("hidden_size", 2304));
  // Top level in transformers' configs; mlx-vlm also reads it from text_config.
  const Keys& holder =
      !top.has("mm_tokens_per_image") && text.has("mm_tokens_per_image") ? text : top;
  SLUICE_ASSIGN_OR_RETURN(int64_t tokens, holder.positive("mm_tokens_per_image", 256));
  if (c.image_size % c.patch_size != 0)
    return v.fail(v.name("image_size") + " " + std::to_string(c.image_size) +
                  " is not a multiple of " + v.name("patch_size") + " " +
                  std::to_string(c.patch_size));
  const auto side = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(tokens))));
  if (side * side != tokens || c.patches_per_side() % side != 0)
    return v.fail("mm_tokens_per_image " + std::to_string(tokens) + " is not a square whose side " +
                  "divides the " + std::to_string(c.patches_per_side()) + " patches per side");
  c.pool_kernel = c.patches_per_side() / side;
  const Keys size(p.at("size"), "image_processor.size", where);
  for (const char* key : {"height", "width"}) {
    SLUICE_ASSIGN_OR_RETURN(int64_t got, size.positive(key, c.image_size));
    if (got != c.image_size)
      return size.fail(size.name(key) + " " + std::to_string(got) + " differs from " +
                       v.name("image_size") + " " + std::to_string(c.image_size));
  }
  SLUICE_ASSIGN_OR_RETURN(c.image_mean, p.rgb("image_mean", kHalf));
  SLUICE_ASSIGN_OR_RETURN(c.image_std, p.rgb("image_std", kHalf));
  return Status::ok();
}

// Qwen2.5-VL's window layers: fullatt_block_indexes must be every n-th layer (n - 1, 2n - 1,
// ...), llama.cpp's n_wa_pattern.
Status read_full_attention(const Keys& v, VisionConfig& c) {
  const std::string key = "fullatt_block_indexes";
  SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> full, v.integers(key, {7, 15, 23, 31}));
  const int64_t n = full.empty() ? 0 : full[0] + 1;
  std::vector<int64_t> every;
  for (int64_t i = n - 1; n > 0 && i < c.num_layers; i += n) every.push_back(i);
  if (full.empty() || every != full)
    return v.fail(v.name(key) + " " + json(full).dump() + " is not every n-th layer of " +
                  std::to_string(c.num_layers) +
                  " (layers n-1, 2n-1, ...: the pattern sluice runs)");
  c.full_attention_every = n;
  return Status::ok();
}

// Qwen3-VL: DeepStack layers ascending, below the depth; positions on a square grid.
Status read_qwen3vl(const Keys& v, VisionConfig& c) {
  const std::string key = "deepstack_visual_indexes";
  SLUICE_ASSIGN_OR_RETURN(c.deepstack_layers, v.integers(key, {8, 16, 24}));
  for (size_t i = 0; i < c.deepstack_layers.size(); ++i)
    if (c.deepstack_layers[i] >= c.num_layers ||
        (i > 0 && c.deepstack_layers[i] <= c.deepstack_layers[i - 1]))
      return v.fail(v.name(key) + " " + json(c.deepstack_layers).dump() +
                    " must ascend and stay below the depth " + std::to_string(c.num_layers));
  SLUICE_ASSIGN_OR_RETURN(int64_t positions, v.positive("num_position_embeddings", 2304));
  c.position_grid = std::llround(std::sqrt(static_cast<double>(positions)));
  if (c.position_grid * c.position_grid != positions)
    return v.fail(v.name("num_position_embeddings") + " " + std::to_string(positions) +
                  " is not a square");
  c.image_size = c.position_grid * c.patch_size;  // as llama.cpp's converter writes it
  return Status::ok();
}

// The Qwen ViTs (Qwen2VLVisionConfig, Qwen2_5_VLVisionConfig, Qwen3VLVisionConfig) and
// Qwen2VLImageProcessor's settings.
Status read_qwen(const Keys& v, const Keys& p, const std::string& where, VisionConfig& c) {
  const bool v2 = c.projector == ProjectorType::kQwen2VL;
  const bool v25 = c.projector == ProjectorType::kQwen25VL;
  const bool v3 = c.projector == ProjectorType::kQwen3VL;
  c.layer_norm_eps = 1e-6f;  // fixed in transformers' modules
  SLUICE_ASSIGN_OR_RETURN(c.num_layers, v.positive("depth", v3 ? 27 : 32));
  SLUICE_ASSIGN_OR_RETURN(c.num_heads, v.positive("num_heads", 16));
  SLUICE_ASSIGN_OR_RETURN(c.patch_size, v.positive("patch_size", v3 ? 16 : 14));
  SLUICE_ASSIGN_OR_RETURN(c.merge_size, v.positive("spatial_merge_size", 2));
  SLUICE_ASSIGN_OR_RETURN(int64_t frames, v.positive("temporal_patch_size", 2));
  SLUICE_RETURN_IF_ERROR(check_channels(v, "in_channels"));
  if (v2) {
    SLUICE_ASSIGN_OR_RETURN(c.hidden_size, v.positive("embed_dim", 1280));
    SLUICE_ASSIGN_OR_RETURN(c.projection_dim, v.positive("hidden_size", 3584));
    SLUICE_ASSIGN_OR_RETURN(int64_t ratio, v.positive("mlp_ratio", 4));
    c.intermediate_size = c.hidden_size * ratio;
    SLUICE_RETURN_IF_ERROR(v.one_of("hidden_act", {"quick_gelu"}, "Qwen2-VL's MLP: quick_gelu"));
  } else {
    SLUICE_ASSIGN_OR_RETURN(c.hidden_size, v.positive("hidden_size", v3 ? 1152 : 3584));
    SLUICE_ASSIGN_OR_RETURN(c.intermediate_size, v.positive("intermediate_size", v3 ? 4304 : 3420));
    SLUICE_ASSIGN_OR_RETURN(c.projection_dim, v.positive("out_hidden_size", 3584));
    SLUICE_RETURN_IF_ERROR(
        v3 ? v.one_of("hidden_act", {"gelu_pytorch_tanh"}, "Qwen3-VL's MLP: gelu_pytorch_tanh")
           : v.one_of("hidden_act", {"silu"}, "Qwen2.5-VL's SwiGLU: silu"));
  }
  SLUICE_RETURN_IF_ERROR(set_heads(v, c, v2 ? "embed_dim" : "hidden_size", "num_heads"));
  if (c.merge_size != 2 || frames != 2)
    return v.fail(v.name("spatial_merge_size") + " and " + v.name("temporal_patch_size") +
                  " must be 2 (the merger joins 2x2 patches of 2 frames)");
  if (c.head_dim % 4 != 0)
    return v.fail("head size " + std::to_string(c.head_dim) +
                  " is not a multiple of 4 (the 2D rotary embedding splits it in quarters)");
  c.image_size = 560;  // llama.cpp's converter's default size (Qwen3-VL: see read_qwen3vl)
  if (v25) {
    SLUICE_RETURN_IF_ERROR(read_full_attention(v, c));
    SLUICE_ASSIGN_OR_RETURN(c.window_size, v.positive("window_size", 112));
    // transformers' default when the key is missing (releases write 2).
    SLUICE_ASSIGN_OR_RETURN(c.tokens_per_second, v.number("tokens_per_second", 4));
    if (!(c.tokens_per_second > 0))
      return v.fail(v.name("tokens_per_second") + " must be positive");
    if (c.window_size % c.size_multiple() != 0)
      return v.fail(v.name("window_size") + " " + std::to_string(c.window_size) +
                    " px is not a whole number of merged patches of " +
                    std::to_string(c.size_multiple()) + " px");
  }
  if (v3) SLUICE_RETURN_IF_ERROR(read_qwen3vl(v, c));
  // The image processor: its patch and merge sizes are the model's; min_pixels / max_pixels
  // override size.shortest_edge / longest_edge (Qwen2VLImageProcessor).
  for (const auto& [key, want] : {std::pair<std::string, int64_t>{"patch_size", c.patch_size},
                                  {"merge_size", c.merge_size},
                                  {"temporal_patch_size", frames}}) {
    SLUICE_ASSIGN_OR_RETURN(int64_t got, p.positive(key, want));
    if (got != want)
      return p.fail(p.name(key) + " " + std::to_string(got) + " differs from the model's " +
                    std::to_string(want));
  }
  const Keys size(p.at("size"), "image_processor.size", where);
  SLUICE_ASSIGN_OR_RETURN(int64_t shortest, size.positive("shortest_edge", 56 * 56));
  SLUICE_ASSIGN_OR_RETURN(int64_t longest, size.positive("longest_edge", 28 * 28 * 1280));
  SLUICE_ASSIGN_OR_RETURN(c.min_pixels, p.positive("min_pixels", shortest));
  SLUICE_ASSIGN_OR_RETURN(c.max_pixels, p.positive("max_pixels", longest));
  if (c.min_pixels > c.max_pixels)
    return p.fail("image_processor min_pixels " + std::to_string(c.min_pixels) +
                  " exceed its max_pixels " + std::to_string(c.max_pixels));
  SLUICE_ASSIGN_OR_RETURN(c.image_mean, p.rgb("image_mean", kClipMean));
  SLUICE_ASSIGN_OR_RETURN(c.image_std, p.rgb("image_std", kClipStd));
  return Status::ok();
}

Result<json> read_config_json(const fs::path& path, const std::string& where) {
  return read_json_object(path.string(), "vision", where);
}

}  // namespace

bool has_vision_config(const std::string& path) {
  std::error_code ec;
  const fs::path config = fs::path(path) / "config.json";
  if (!fs::is_directory(path, ec) || !fs::exists(config, ec)) return false;
  auto j = read_config_json(config, path);
  return j.ok() && j->contains("vision_config") && (*j)["vision_config"].is_object();
}

Result<VisionConfig> hf_vision_config(const json& config, const json& processor,
                                      const std::string& where) {
  VisionConfig c;
  SLUICE_ASSIGN_OR_RETURN(c.projector, family(config, where));
  if (!config.contains("vision_config") || !config["vision_config"].is_object())
    return vision_error(where, "config.json has no vision_config object");
  const Keys v(config["vision_config"], "vision_config", where);
  const Keys p(processor, "image_processor", where);
  SLUICE_RETURN_IF_ERROR(c.projector == ProjectorType::kGemma3 ? read_gemma3(config, v, p, where, c)
                                                               : read_qwen(v, p, where, c));
  for (float s : c.image_std)
    if (s == 0.0f) return p.fail("image_processor.image_std holds a zero");
  return c;
}

Result<VisionConfig> read_hf_vision_config(const std::string& dir) {
  const fs::path d(dir);
  std::error_code ec;
  SLUICE_ASSIGN_OR_RETURN(json config, read_config_json(d / "config.json", dir));
  json processor;
  if (fs::exists(d / "processor_config.json", ec)) {
    SLUICE_ASSIGN_OR_RETURN(json all, read_config_json(d / "processor_config.json", dir));
    if (all.contains("image_processor")) processor = all["image_processor"];
  }
  if (processor.is_null()) {
    if (!fs::exists(d / "preprocessor_config.json", ec))
      return vision_error(
          dir, "no preprocessor_config.json (the image processor's mean, std and sizes)");
    SLUICE_ASSIGN_OR_RETURN(processor, read_config_json(d / "preprocessor_config.json", dir));
  }
  return hf_vision_config(config, processor, dir);
}

}  // namespace sluice
