// read_vision_config: the clip.* keys of llama.cpp's mmproj files (tools/mtmd/clip-impl.h names
// them; its converter writes them from the Hugging Face vision_config and preprocessor config).
#include "model/vision/vision_config.h"

#include <cmath>
#include <optional>

#include "formats/gguf.h"

namespace sluice {

const char* projector_type_name(ProjectorType t) {
  switch (t) {
    case ProjectorType::kGemma3:
      return "gemma3";
  }
  return "?";
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
  return r.fail("projector type '" + *type + "' is not supported (sluice runs: gemma3)");
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
  SLUICE_ASSIGN_OR_RETURN(c.intermediate_size, r.positive("clip.vision.feed_forward_length"));
  SLUICE_ASSIGN_OR_RETURN(c.num_layers, r.positive("clip.vision.block_count"));
  SLUICE_ASSIGN_OR_RETURN(c.num_heads, r.positive("clip.vision.attention.head_count"));
  SLUICE_ASSIGN_OR_RETURN(c.projection_dim, r.positive("clip.vision.projection_dim"));
  SLUICE_ASSIGN_OR_RETURN(c.pool_kernel, r.positive_or("clip.vision.projector.scale_factor", 4));
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
  return c;
}

}  // namespace sluice
