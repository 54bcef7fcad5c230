#include "convert/synthetic_vision.h"

#include <cmath>
#include <cstring>

#include "convert/quantize.h"
#include "convert/synthetic_model.h"
#include "convert/synthetic_vision_tensors.h"

namespace sluice {

namespace {

// Qwen2.5-VL's tower; image_size is what the converter writes when the config has none (560).
Result<VisionConfig> qwen25vl_preset(const std::string& preset, int64_t projection_dim) {
  VisionConfig c;
  c.projector = ProjectorType::kQwen25VL;
  c.projection_dim = projection_dim;
  c.layer_norm_eps = 1e-6f;
  c.image_size = 560, c.patch_size = 14, c.merge_size = 2, c.window_size = 112;
  c.image_mean = {0.48145466f, 0.4578275f, 0.40821073f};  // preprocessor_config.json (CLIP's)
  c.image_std = {0.26862954f, 0.26130258f, 0.27577711f};
  if (preset == "qwen25vl-tiny") {  // head_dim 24; an MLP width Q8_0 rows cannot split
    c.hidden_size = 96, c.intermediate_size = 200, c.num_layers = 4, c.num_heads = 4;
    c.full_attention_every = 2;
  } else {
    c.hidden_size = 1280, c.intermediate_size = 3420, c.num_layers = 32, c.num_heads = 16;
    c.full_attention_every = 8;  // fullatt_block_indexes [7, 15, 23, 31]
  }
  c.head_dim = c.hidden_size / c.num_heads;
  const int64_t token_area = c.size_multiple() * c.size_multiple();
  c.min_pixels = 8 * token_area, c.max_pixels = 4096 * token_area;
  return c;
}

// Qwen3-VL's tower: patch 16, learned positions on a 48 x 48 grid (image_size: the converter's
// sqrt(num_position_embeddings) * patch), Qwen3-VL's preprocessor mean and std of 0.5.
Result<VisionConfig> qwen3vl_preset(const std::string& preset, int64_t projection_dim) {
  VisionConfig c;
  c.projector = ProjectorType::kQwen3VL;
  c.projection_dim = projection_dim;
  c.layer_norm_eps = 1e-6f;
  c.patch_size = 16, c.merge_size = 2, c.position_grid = 48;
  c.image_mean = {0.5f, 0.5f, 0.5f};
  c.image_std = {0.5f, 0.5f, 0.5f};
  if (preset == "qwen3vl-tiny") {  // head_dim 24; an MLP width Q8_0 rows cannot split
    c.hidden_size = 96, c.intermediate_size = 200, c.num_layers = 4, c.num_heads = 4;
    c.position_grid = 6;  // smaller and larger than the test images' grids
    c.deepstack_layers = {0, 2};
  } else if (preset == "qwen3vl-4b") {  // Qwen3-VL-2B and 4B
    c.hidden_size = 1024, c.intermediate_size = 4096, c.num_layers = 24, c.num_heads = 16;
    c.deepstack_layers = {5, 11, 17};
  } else {  // qwen3vl-8b: Qwen3-VL-8B and larger
    c.hidden_size = 1152, c.intermediate_size = 4304, c.num_layers = 27, c.num_heads = 16;
    c.deepstack_layers = {8, 16, 24};
  }
  c.image_size = c.position_grid * c.patch_size;
  c.head_dim = c.hidden_size / c.num_heads;
  const int64_t token_area = c.size_multiple() * c.size_multiple();
  c.min_pixels = 8 * token_area, c.max_pixels = 4096 * token_area;
  return c;
}

}  // namespace

Result<VisionConfig> vision_preset(const std::string& preset, int64_t projection_dim) {
  if (preset == "qwen25vl-tiny" || preset == "qwen25vl-7b")
    return qwen25vl_preset(preset, projection_dim);
  if (preset == "qwen3vl-tiny" || preset == "qwen3vl-4b" || preset == "qwen3vl-8b")
    return qwen3vl_preset(preset, projection_dim);
  VisionConfig c;
  c.projector = ProjectorType::kGemma3;
  c.projection_dim = projection_dim;
  c.layer_norm_eps = 1e-6f;
  c.pool_kernel = 4;
  c.image_mean = {0.5f, 0.5f, 0.5f};  // Gemma 3's preprocessor_config.json
  c.image_std = {0.5f, 0.5f, 0.5f};
  if (preset == "tiny") {  // head_dim 24: not a multiple of any SIMD width
    c.image_size = 224, c.patch_size = 14, c.hidden_size = 96, c.intermediate_size = 192;
    c.num_layers = 2, c.num_heads = 4;
  } else if (preset == "gemma3-4b") {
    c.image_size = 896, c.patch_size = 14, c.hidden_size = 1152, c.intermediate_size = 4304;
    c.num_layers = 27, c.num_heads = 16;
  } else {
    return Status::error("make-model", "unknown vision preset '" + preset +
                                           "' (tiny, gemma3-4b, qwen25vl-tiny, qwen25vl-7b, "
                                           "qwen3vl-tiny, qwen3vl-4b, qwen3vl-8b)");
  }
  c.head_dim = c.hidden_size / c.num_heads;
  return c;
}

namespace {

uint32_t file_type(GgufType t) {  // llama_ftype: ALL_F32, MOSTLY_F16, MOSTLY_Q8_0
  return t == GgufType::F32 ? 0 : t == GgufType::Q8_0 ? 7 : 1;
}

// The clip.* metadata llama.cpp's converter writes for the tower.
class MmprojMetadata {
 public:
  MmprojMetadata(const VisionConfig& c, const MmprojWriteOptions& o, GgufWriter& w)
      : c_(c), o_(o), w_(w) {}

  void write() {
    w_.add_string("general.architecture", "clip");
    w_.add_string("general.type", "mmproj");
    w_.add_string("general.name", o_.name);
    w_.add_uint32("general.file_type", file_type(o_.matrix_type));
    w_.add_bool("clip.has_vision_encoder", true);
    w_.add_uint32("clip.vision.projection_dim", static_cast<uint32_t>(c_.projection_dim));
    w_.add_uint32("clip.vision.image_size", static_cast<uint32_t>(c_.image_size));
    w_.add_uint32("clip.vision.patch_size", static_cast<uint32_t>(c_.patch_size));
    w_.add_uint32("clip.vision.embedding_length", static_cast<uint32_t>(c_.hidden_size));
    w_.add_uint32("clip.vision.feed_forward_length", static_cast<uint32_t>(c_.intermediate_size));
    w_.add_uint32("clip.vision.block_count", static_cast<uint32_t>(c_.num_layers));
    w_.add_uint32("clip.vision.attention.head_count", static_cast<uint32_t>(c_.num_heads));
    w_.add_float32_array("clip.vision.image_mean", {c_.image_mean.begin(), c_.image_mean.end()});
    w_.add_float32_array("clip.vision.image_std", {c_.image_std.begin(), c_.image_std.end()});
    w_.add_string("clip.projector_type", projector_type_name(c_.projector));
    if (c_.projector == ProjectorType::kQwen25VL) {
      w_.add_bool("clip.use_silu", true);
      w_.add_uint32("clip.vision.n_wa_pattern", static_cast<uint32_t>(c_.full_attention_every));
    }
    if (c_.projector == ProjectorType::kQwen3VL) {  // Qwen3VLVisionModel.set_gguf_parameters
      w_.add_bool("clip.use_gelu", true);
      w_.add_uint32("clip.vision.spatial_merge_size", static_cast<uint32_t>(c_.merge_size));
    }
    w_.add_float32("clip.vision.attention.layer_norm_epsilon", c_.layer_norm_eps);
    if (c_.projector == ProjectorType::kQwen3VL) {
      std::vector<bool> deepstack(static_cast<size_t>(c_.num_layers), false);
      for (int64_t i : c_.deepstack_layers) deepstack[static_cast<size_t>(i)] = true;
      w_.add_bool_array("clip.vision.is_deepstack_layers", deepstack);
    }
    if (c_.projector == ProjectorType::kGemma3) {
      w_.add_bool("clip.use_gelu", true);
      if (c_.pool_kernel != 4)  // the converter writes it only when it is not the default
        w_.add_uint32("clip.vision.projector.scale_factor", static_cast<uint32_t>(c_.pool_kernel));
    }
    w_.add_uint32("general.quantization_version", 2);
  }

 private:
  const VisionConfig& c_;
  const MmprojWriteOptions& o_;
  GgufWriter& w_;
};

// Every tensor of the tower in the mmproj's names, order and types, handed to a sink.
class TowerTensors {
 public:
  TowerTensors(const VisionConfig& c, GgufType matrix_type, uint64_t seed,
               const SyntheticVisionSink& sink)
      : c_(c), matrix_type_(matrix_type), seed_(seed), sink_(sink) {
    scale_.hidden_size = c.hidden_size;
    scale_.num_layers = c.num_layers;
  }

  void tensors() {
    if (c_.projector == ProjectorType::kQwen25VL) return qwen25vl_tensors();
    if (c_.projector == ProjectorType::kQwen3VL) return qwen3vl_tensors();
    gemma3_tensors();
  }

 private:
  using K = TensorSpec::Kind;

  // Values of a tensor of the given kind and shape, times `gain` (see synthetic_tensor).
  std::vector<float> values(const std::string& name, K kind, int64_t rows, int64_t cols,
                            float gain = 1.0f) const {
    std::vector<float> v = synthetic_tensor({name, kind, rows, cols}, scale_, seed_);
    if (gain != 1.0f)
      for (float& x : v) x *= gain;
    return v;
  }

  void add(const std::string& name, GgufType type, const std::vector<int64_t>& shape,
           std::vector<float> v, int64_t rows, int64_t cols) {
    sink_({name, type, shape, std::move(v), rows, cols});
  }
  void vec(const std::string& name, K kind, int64_t n) {
    add(name, GgufType::F32, {n}, values(name, kind, 1, n), 1, n);
  }
  // An encoder matrix [rows, cols] in the output type (F16 where Q8_0 blocks do not fit).
  void mat(const std::string& name, int64_t rows, int64_t cols, float gain = 1.0f) {
    GgufType t = matrix_type_;
    if (t == GgufType::Q8_0 && cols % 32 != 0) t = GgufType::F16;
    add(name, t, {cols, rows}, values(name, K::kMatrix, rows, cols, gain), rows, cols);
  }

  // A layer's attention projections and biases; q and k of std 1.5/sqrt(H): attention logits
  // of std ~2, far from a flat average.
  void attention(const std::string& p) {
    const int64_t H = c_.hidden_size, Q = c_.q_dim();
    mat(p + "attn_q.weight", Q, H, 1.5f);
    vec(p + "attn_q.bias", K::kBias, Q);
    mat(p + "attn_k.weight", Q, H, 1.5f);
    vec(p + "attn_k.bias", K::kBias, Q);
    mat(p + "attn_v.weight", Q, H);
    vec(p + "attn_v.bias", K::kBias, Q);
    mat(p + "attn_out.weight", H, Q);
    vec(p + "attn_out.bias", K::kBias, H);
  }

  // A layer's MLP up and down projections and biases.
  void up_down(const std::string& p) {
    const int64_t H = c_.hidden_size, F = c_.intermediate_size;
    mat(p + "ffn_up.weight", F, H);
    vec(p + "ffn_up.bias", K::kBias, F);
    mat(p + "ffn_down.weight", H, F);
    vec(p + "ffn_down.bias", K::kBias, H);
  }

  // Qwen2.5-VL as conversion/qwenvl.py writes it: the Conv3d's two frames, qkv split in three.
  void qwen25vl_tensors() {
    const int64_t H = c_.hidden_size, F = c_.intermediate_size;
    const int64_t P = c_.patch_size, conv = 3 * P * P, M = 4 * H;
    const GgufType conv_type = matrix_type_ == GgufType::F16 ? GgufType::F16 : GgufType::F32;
    for (const char* name : {"v.patch_embd.weight", "v.patch_embd.weight.1"})
      add(name, conv_type, {P, P, 3, H}, values(name, K::kMatrix, H, conv), H, conv);
    for (int64_t i = 0; i < c_.num_layers; ++i) {
      const std::string p = "v.blk." + std::to_string(i) + ".";
      vec(p + "ln1.weight", K::kNorm, H);
      attention(p);
      vec(p + "ln2.weight", K::kNorm, H);
      mat(p + "ffn_gate.weight", F, H);
      vec(p + "ffn_gate.bias", K::kBias, F);
      up_down(p);
    }
    vec("v.post_ln.weight", K::kNorm, H);  // merger.ln_q
    mat("mm.0.weight", M, M);
    vec("mm.0.bias", K::kBias, M);
    mat("mm.2.weight", c_.projection_dim, M, 2.0f);  // soft tokens of std ~1
    vec("mm.2.bias", K::kBias, c_.projection_dim);
  }

  // Qwen3-VL as conversion/qwen3vl.py writes it: the Conv3d's two frames and its bias, the
  // position table (F32), fused qkv, LayerNorms with biases, DeepStack mergers by layer.
  void qwen3vl_tensors() {
    const int64_t H = c_.hidden_size, Q = c_.q_dim(), P = c_.patch_size, conv = 3 * P * P;
    const int64_t M = 4 * H, grid = c_.position_grid * c_.position_grid;
    const GgufType conv_type = matrix_type_ == GgufType::F16 ? GgufType::F16 : GgufType::F32;
    for (const char* name : {"v.patch_embd.weight", "v.patch_embd.weight.1"})
      add(name, conv_type, {P, P, 3, H}, values(name, K::kMatrix, H, conv, 0.7f), H, conv);
    vec("v.patch_embd.bias", K::kBias, H);
    add("v.position_embd.weight", GgufType::F32, {H, grid},
        values("v.position_embd.weight", K::kEmbedding, grid, H, 0.5f), grid, H);
    for (int64_t i = 0; i < c_.num_layers; ++i) {
      const std::string p = "v.blk." + std::to_string(i) + ".";
      vec(p + "ln1.weight", K::kNorm, H);
      vec(p + "ln1.bias", K::kBias, H);
      // q and k of std 1.5/sqrt(H) (as attention() writes them), then v
      std::vector<float> qkv = values(p + "attn_q.weight", K::kMatrix, Q, H, 1.5f);
      for (const auto& [name, gain] : {std::pair{"attn_k.weight", 1.5f}, {"attn_v.weight", 1.0f}}) {
        const std::vector<float> part = values(p + name, K::kMatrix, Q, H, gain);
        qkv.insert(qkv.end(), part.begin(), part.end());
      }
      GgufType t = matrix_type_;
      if (t == GgufType::Q8_0 && H % 32 != 0) t = GgufType::F16;
      add(p + "attn_qkv.weight", t, {H, 3 * Q}, qkv, 3 * Q, H);
      vec(p + "attn_qkv.bias", K::kBias, 3 * Q);
      mat(p + "attn_out.weight", H, Q);
      vec(p + "attn_out.bias", K::kBias, H);
      vec(p + "ln2.weight", K::kNorm, H);
      vec(p + "ln2.bias", K::kBias, H);
      up_down(p);
    }
    vec("v.post_ln.weight", K::kNorm, H);  // merger.norm
    vec("v.post_ln.bias", K::kBias, H);
    merger_mlp("mm.0", "mm.2");
    for (int64_t i : c_.deepstack_layers) {
      const std::string p = "v.deepstack." + std::to_string(i) + ".";
      vec(p + "norm.weight", K::kNorm, M);
      vec(p + "norm.bias", K::kBias, M);
      merger_mlp(p + "fc1", p + "fc2");
    }
  }

  // A merger's fc1 [4H, 4H] and fc2 [projection_dim, 4H] with biases.
  void merger_mlp(const std::string& fc1, const std::string& fc2) {
    const int64_t M = 4 * c_.hidden_size;
    mat(fc1 + ".weight", M, M);
    vec(fc1 + ".bias", K::kBias, M);
    mat(fc2 + ".weight", c_.projection_dim, M, 2.0f);  // soft tokens of std ~1
    vec(fc2 + ".bias", K::kBias, c_.projection_dim);
  }

  void gemma3_tensors() {
    const int64_t H = c_.hidden_size;
    const int64_t P = c_.patch_size, conv = 3 * P * P;
    // The patch conv [hidden, 3, P, P] and the position table: F32, as the converter forces
    // ".embeddings." tensors of Gemma 3. Positions of std 0.5 beside patch rows of std ~1.
    add("v.patch_embd.weight", GgufType::F32, {P, P, 3, H},
        values("v.patch_embd.weight", K::kMatrix, H, conv), H, conv);
    vec("v.patch_embd.bias", K::kBias, H);
    add("v.position_embd.weight", GgufType::F32, {H, c_.num_patches()},
        values("v.position_embd.weight", K::kEmbedding, c_.num_patches(), H, 0.5f),
        c_.num_patches(), H);
    for (int64_t i = 0; i < c_.num_layers; ++i) {
      const std::string p = "v.blk." + std::to_string(i) + ".";
      vec(p + "ln1.weight", K::kNorm, H);
      vec(p + "ln1.bias", K::kBias, H);
      attention(p);
      vec(p + "ln2.weight", K::kNorm, H);
      vec(p + "ln2.bias", K::kBias, H);
      up_down(p);
    }
    vec("v.post_ln.weight", K::kNorm, H);
    vec("v.post_ln.bias", K::kBias, H);
    // Gemma3RMSNorm's weight stored as 1 + w (the converter adds 1): values around 1.
    vec("mm.soft_emb_norm.weight", K::kNorm, H);
    // [hidden, projection_dim] as transformers holds it (x . W); F16 whatever the output type.
    add("mm.input_projection.weight", GgufType::F16, {c_.projection_dim, H},
        values("mm.input_projection.weight", K::kMatrix, H, c_.projection_dim,
               std::sqrt(static_cast<float>(c_.projection_dim) / static_cast<float>(H))),
        H, c_.projection_dim);
  }

  const VisionConfig& c_;
  GgufType matrix_type_;
  uint64_t seed_;
  const SyntheticVisionSink& sink_;
  ModelConfig scale_;  // what synthetic_tensor reads: the width and depth
};

}  // namespace

Status write_synthetic_mmproj(const VisionConfig& c, const MmprojWriteOptions& o,
                              const std::string& out) {
  if (o.matrix_type != GgufType::F32 && o.matrix_type != GgufType::F16 &&
      o.matrix_type != GgufType::Q8_0)
    return Status::error("make-model", "an mmproj's matrices are F32, F16 or Q8_0, not " +
                                           gguf_type_name(o.matrix_type));
  GgufWriter w;
  MmprojMetadata(c, o, w).write();
  synthetic_vision_tensors(c, o.matrix_type, o.seed, [&](SyntheticVisionTensor t) {
    w.add_tensor(t.name, t.type, t.shape,
                 quantize_to_gguf(t.type, t.values.data(), t.rows, t.cols));
  });
  return w.write(out);
}

void synthetic_vision_tensors(const VisionConfig& c, GgufType matrix_type, uint64_t seed,
                              const SyntheticVisionSink& sink) {
  TowerTensors(c, matrix_type, seed, sink).tensors();
}

}  // namespace sluice
