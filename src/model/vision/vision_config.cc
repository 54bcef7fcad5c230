// read_vision_config: the clip.* keys of llama.cpp's mmproj files (tools/mtmd/clip-impl.h names
// them; its converter writes them from the Hugging Face vision_config and preprocessor config).
#include "model/vision/vision_config.h"

#include <cmath>
#include <optional>

#include "formats/gguf.h"
#include "model/load/weight_source.h"

namespace sluice {

const char* projector_type_name(ProjectorType t) {
  switch (t) {
    case ProjectorType::kGemma3:
      return "gemma3";
    case ProjectorType::kQwen2VL:
      return "qwen2vl_merger";
    case ProjectorType::kQwen25VL:
      return "qwen2.5vl_merger";
    case ProjectorType::kQwen3VL:
      return "qwen3vl_merger";
  }
  return "?";
}

std::string VisionConfig::size_error(int64_t height, int64_t width) const {
  const std::string got = std::to_string(height) + "x" + std::to_string(width);
  if (!dynamic_resolution()) {
    if (height == image_size && width == image_size) return "";
    return "the encoder takes " + std::to_string(image_size) + "x" + std::to_string(image_size) +
           " images, not " + got;
  }
  const int64_t m = size_multiple();
  if (height > 0 && width > 0 && height % m == 0 && width % m == 0) return "";
  return "image sides must be positive multiples of " + std::to_string(m) + " (patch " +
         std::to_string(patch_size) + " x merge " + std::to_string(merge_size) + "), not " + got;
}

namespace {

class Reader {
 public:
  explicit Reader(const GgufFile& g) : g_(g) {}

  Status fail(const std::string& what) const {
    return Status::error("mmproj", g_.path() + ": " + what);
  }

  // A required positive integer.
  Result<int64_t> positive(const std::string& key) const {
    if (!g_.find(key)) return fail("missing key '" + key + "'");
    const std::optional<int64_t> v = g_.get_int(key);
    if (!v) return fail("key '" + key + "' is not an integer");
    if (*v <= 0) return fail("key '" + key + "' must be positive, not " + std::to_string(*v));
    return *v;
  }

  // An optional positive integer (fallback when absent).
  Result<int64_t> positive_or(const std::string& key, int64_t fallback) const {
    if (!g_.find(key)) return fallback;
    return positive(key);
  }

  // A required integer >= 0.
  Result<int64_t> non_negative(const std::string& key) const {
    if (!g_.find(key)) return fail("missing key '" + key + "'");
    const std::optional<int64_t> v = g_.get_int(key);
    if (!v || *v < 0) return fail("key '" + key + "' must be an integer >= 0");
    return *v;
  }

  Result<std::array<float, 3>> rgb(const std::string& key) const {
    if (!g_.find(key)) return fail("missing key '" + key + "'");
    const auto v = g_.get_float_array(key);
    if (!v || v->size() != 3) return fail("key '" + key + "' must be an array of 3 floats");
    std::array<float, 3> out{};
    for (int i = 0; i < 3; ++i) {
      if (!std::isfinite((*v)[i])) return fail("key '" + key + "' holds a non-finite value");
      out[i] = static_cast<float>((*v)[i]);
    }
    return out;
  }

 private:
  const GgufFile& g_;
};

Result<ProjectorType> projector_of(const GgufFile& g, const Reader& r) {
  std::optional<std::string> type = g.get_string("clip.projector_type");
  if (!type || type->empty()) type = g.get_string("clip.vision.projector_type");
  if (!type || type->empty())
    return r.fail("missing key 'clip.projector_type' (is this a llama.cpp mmproj file?)");
  if (*type == "gemma3") return ProjectorType::kGemma3;
  if (*type == "qwen2vl_merger") return ProjectorType::kQwen2VL;
  // "qwen2.5o" (Qwen2.5-Omni's vision side) is read as llama.cpp reads it: the 2.5-VL merger.
  if (*type == "qwen2.5vl_merger" || *type == "qwen2.5o") return ProjectorType::kQwen25VL;
  if (*type == "qwen3vl_merger") return ProjectorType::kQwen3VL;
  return r.fail("projector type '" + *type +
                "' is not supported (sluice runs: gemma3, qwen2vl_merger, qwen2.5vl_merger, "
                "qwen3vl_merger)");
}

// SigLIP + the Gemma 3 projector: a fixed square image, an average pool, tanh-GELU MLPs.
Status read_gemma3(const GgufFile& g, const Reader& r, VisionConfig& c) {
  SLUICE_ASSIGN_OR_RETURN(c.intermediate_size, r.positive("clip.vision.feed_forward_length"));
  SLUICE_ASSIGN_OR_RETURN(c.pool_kernel, r.positive_or("clip.vision.projector.scale_factor", 4));
  // llama.cpp reads the MLP's activation from these flags; Gemma 3's SigLIP is GELU (tanh).
  const bool silu = g.get_bool("clip.use_silu").value_or(false);
  if (silu || !g.get_bool("clip.use_gelu").value_or(false))
    return r.fail("the gemma3 projector needs clip.use_gelu = true (SigLIP's tanh GELU); " +
                  std::string(silu ? "clip.use_silu is set" : "clip.use_gelu is missing or false") +
                  " (quick GELU and SiLU encoders are not supported)");
  if (c.image_size % c.patch_size != 0)
    return r.fail("image size " + std::to_string(c.image_size) +
                  " is not a multiple of the patch size " + std::to_string(c.patch_size));
  if (c.patches_per_side() % c.pool_kernel != 0)
    return r.fail(std::to_string(c.patches_per_side()) +
                  " patches per side cannot be pooled by clip.vision.projector.scale_factor " +
                  std::to_string(c.pool_kernel));
  return Status::ok();
}

// The MLP's width of a Qwen ViT, from v.blk.0.ffn_down ([ffn, hidden] in ggml order, or
// [hidden, ffn] where an old converter swapped the names): the converter's
// feed_forward_length is Qwen2-VL's text width, and 0 in files of the older surgery script.
Result<int64_t> qwen_ffn_width(const GgufFile& g, const Reader& r, int64_t hidden) {
  const std::string name = "v.blk.0.ffn_down.weight";
  const GgufTensorInfo* t = g.tensor(name);
  if (!t) return r.fail("missing tensor '" + name + "'");
  if (t->shape.size() == 2 && t->shape[1] == hidden && t->shape[0] > 0) return t->shape[0];
  if (t->shape.size() == 2 && t->shape[0] == hidden && t->shape[1] > 0) return t->shape[1];
  return r.fail("tensor '" + name + "' has shape " + shape_str(t->shape) + ", expected [ffn, " +
                std::to_string(hidden) + "] (ggml order)");
}

// Qwen3-VL: the learned position table's side (v.position_embd [hidden, side^2]) and the layers
// with a DeepStack merger: clip.vision.is_deepstack_layers where the file has it, else (as
// llama.cpp reads it) the layers that have v.deepstack.N.* tensors.
Status read_qwen3vl(const GgufFile& g, const Reader& r, VisionConfig& c) {
  const std::string pos = "v.position_embd.weight";
  const GgufTensorInfo* t = g.tensor(pos);
  if (!t) return r.fail("missing tensor '" + pos + "'");
  const int64_t count = t->shape.size() == 2 ? t->shape[1] : 0;
  c.position_grid = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(count))));
  if (t->shape.size() != 2 || t->shape[0] != c.hidden_size || count <= 0 ||
      c.position_grid * c.position_grid != count)
    return r.fail("tensor '" + pos + "' has shape " + shape_str(t->shape) + ", expected [" +
                  std::to_string(c.hidden_size) + ", side * side] (ggml order)");
  const std::string key = "clip.vision.is_deepstack_layers";
  const auto prefix = [](int64_t i) { return "v.deepstack." + std::to_string(i) + "."; };
  if (g.find(key)) {
    const std::optional<std::vector<bool>> flags = g.get_bool_array(key);
    if (!flags || static_cast<int64_t>(flags->size()) != c.num_layers)
      return r.fail("key '" + key + "' must be an array of " + std::to_string(c.num_layers) +
                    " bools (one per layer)");
    for (int64_t i = 0; i < c.num_layers; ++i) {
      if ((*flags)[static_cast<size_t>(i)])
        c.deepstack_layers.push_back(i);
      else if (g.tensor(prefix(i) + "fc1.weight"))
        return r.fail("tensor '" + prefix(i) + "fc1.weight' belongs to layer " + std::to_string(i) +
                      ", which '" + key + "' does not list");
    }
  } else {
    for (int64_t i = 0; i < c.num_layers; ++i)
      if (g.tensor(prefix(i) + "norm.weight") || g.tensor(prefix(i) + "fc1.weight") ||
          g.tensor(prefix(i) + "fc2.weight"))
        c.deepstack_layers.push_back(i);
  }
  return Status::ok();
}

// Qwen2-VL's ViT and 2x2 patch merger: any image size; Qwen2.5-VL adds RMSNorm, SwiGLU and
// window attention; Qwen3-VL learned positions, a tanh-GELU MLP and DeepStack mergers. Keys as
// llama.cpp reads them (clip.cpp, PROJECTOR_TYPE_QWEN2VL/QWEN25VL/QWEN3VL).
Status read_qwen2vl(const GgufFile& g, const Reader& r, VisionConfig& c) {
  const bool v25 = c.projector == ProjectorType::kQwen25VL;
  const bool v3 = c.projector == ProjectorType::kQwen3VL;
  SLUICE_ASSIGN_OR_RETURN(c.intermediate_size, qwen_ffn_width(g, r, c.hidden_size));
  const bool gelu = g.get_bool("clip.use_gelu").value_or(false);
  const bool silu = g.get_bool("clip.use_silu").value_or(false);
  if (v25 && (!silu || gelu))
    return r.fail("the qwen2.5vl_merger projector needs clip.use_silu = true (a SwiGLU MLP)" +
                  std::string(gelu ? "; clip.use_gelu is set" : ""));
  if (v3 && (!gelu || silu))
    return r.fail("the qwen3vl_merger projector needs clip.use_gelu = true (a tanh-GELU MLP)" +
                  std::string(silu ? "; clip.use_silu is set" : ""));
  if (!v25 && !v3 && (silu || gelu))
    return r.fail(
        "the qwen2vl_merger projector's MLP is quick GELU: clip.use_gelu and "
        "clip.use_silu must be unset");
  SLUICE_ASSIGN_OR_RETURN(c.merge_size, r.positive_or("clip.vision.spatial_merge_size", 2));
  if (c.merge_size != 2)
    return r.fail("clip.vision.spatial_merge_size " + std::to_string(c.merge_size) +
                  " is not supported (the merger joins 2x2 patches)");
  if (c.head_dim % 4 != 0)
    return r.fail("head size " + std::to_string(c.head_dim) +
                  " is not a multiple of 4 (the 2D rotary embedding splits it in quarters)");
  if (v25) {
    SLUICE_ASSIGN_OR_RETURN(c.full_attention_every, r.non_negative("clip.vision.n_wa_pattern"));
    c.window_size = 112;  // Qwen2.5-VL's window_size; llama.cpp's default (not in the file)
    if (c.window_size % c.size_multiple() != 0)
      return r.fail("the attention window of " + std::to_string(c.window_size) +
                    " px is not a whole number of merged patches of " +
                    std::to_string(c.size_multiple()) + " px");
  }
  if (v3) SLUICE_RETURN_IF_ERROR(read_qwen3vl(g, r, c));
  // llama.cpp's limits for these projectors: 8 to 4096 tokens of (patch * merge)^2 pixels.
  const int64_t token_area = c.size_multiple() * c.size_multiple();
  c.min_pixels = 8 * token_area, c.max_pixels = 4096 * token_area;
  return Status::ok();
}

}  // namespace

Result<VisionConfig> read_vision_config(const GgufFile& g) {
  const Reader r(g);
  VisionConfig c;
  SLUICE_ASSIGN_OR_RETURN(c.projector, projector_of(g, r));
  if (g.find("clip.has_vision_encoder") && !g.get_bool("clip.has_vision_encoder").value_or(false))
    return r.fail("clip.has_vision_encoder is false: this mmproj has no image encoder");
  SLUICE_ASSIGN_OR_RETURN(c.image_size, r.positive("clip.vision.image_size"));
  SLUICE_ASSIGN_OR_RETURN(c.patch_size, r.positive("clip.vision.patch_size"));
  SLUICE_ASSIGN_OR_RETURN(c.hidden_size, r.positive("clip.vision.embedding_length"));
  SLUICE_ASSIGN_OR_RETURN(c.num_layers, r.positive("clip.vision.block_count"));
  SLUICE_ASSIGN_OR_RETURN(c.num_heads, r.positive("clip.vision.attention.head_count"));
  SLUICE_ASSIGN_OR_RETURN(c.projection_dim, r.positive("clip.vision.projection_dim"));
  SLUICE_ASSIGN_OR_RETURN(int64_t kv_heads,
                          r.positive_or("clip.vision.attention.head_count_kv", c.num_heads));
  if (kv_heads != c.num_heads)
    return r.fail("grouped-query attention in the encoder (head_count_kv " +
                  std::to_string(kv_heads) + " != head_count " + std::to_string(c.num_heads) +
                  ") is not supported");
  if (!g.find("clip.vision.attention.head_dim") && c.hidden_size % c.num_heads != 0)
    return r.fail("clip.vision.embedding_length " + std::to_string(c.hidden_size) +
                  " is not a multiple of the head count " + std::to_string(c.num_heads));
  SLUICE_ASSIGN_OR_RETURN(
      c.head_dim, r.positive_or("clip.vision.attention.head_dim", c.hidden_size / c.num_heads));

  const std::string eps_key = "clip.vision.attention.layer_norm_epsilon";
  if (!g.find(eps_key)) return r.fail("missing key '" + eps_key + "'");
  const std::optional<double> eps = g.get_float(eps_key);
  if (!eps || !(*eps > 0.0) || !std::isfinite(*eps))
    return r.fail("key '" + eps_key + "' must be a positive number");
  c.layer_norm_eps = static_cast<float>(*eps);

  SLUICE_ASSIGN_OR_RETURN(c.image_mean, r.rgb("clip.vision.image_mean"));
  SLUICE_ASSIGN_OR_RETURN(c.image_std, r.rgb("clip.vision.image_std"));
  for (float s : c.image_std)
    if (s == 0.0f) return r.fail("clip.vision.image_std holds a zero");

  SLUICE_RETURN_IF_ERROR(c.projector == ProjectorType::kGemma3 ? read_gemma3(g, r, c)
                                                               : read_qwen2vl(g, r, c));
  return c;
}

}  // namespace sluice
