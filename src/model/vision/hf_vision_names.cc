#include "model/vision/hf_vision_names.h"

#include <algorithm>

namespace sluice {
namespace {

class Table {
 public:
  explicit Table(const VisionConfig& c) : c_(c) {}

  void same(const std::string& mmproj, const std::string& name, std::vector<int64_t> shape,
            HfPart part = HfPart::kTower) {
    out.push_back({mmproj, part, name, std::move(shape), HfLayout::kSame, 0, 0});
  }
  // "X.weight" [rows, cols] and "X.bias" [rows] under both names.
  void linear(const std::string& mmproj, const std::string& name, int64_t rows, int64_t cols) {
    same(mmproj + ".weight", name + ".weight", {rows, cols});
    same(mmproj + ".bias", name + ".bias", {rows});
  }
  // A norm's weight [n], and its bias unless it is an RMSNorm.
  void norm(const std::string& mmproj, const std::string& name, int64_t n, bool bias) {
    same(mmproj + ".weight", name + ".weight", {n});
    if (bias) same(mmproj + ".bias", name + ".bias", {n});
  }
  // q, k and v as rows of the fused qkv [3 q_dim, hidden] and slices of its bias.
  void split_qkv(const std::string& p, const std::string& qkv) {
    const int64_t H = c_.hidden_size, Q = c_.q_dim();
    const char* parts[] = {"attn_q", "attn_k", "attn_v"};
    for (int64_t i = 0; i < 3; ++i) {
      out.push_back({p + parts[i] + ".weight",
                     HfPart::kTower,
                     qkv + ".weight",
                     {3 * Q, H},
                     HfLayout::kRows,
                     i * Q,
                     Q});
      out.push_back({p + parts[i] + ".bias",
                     HfPart::kTower,
                     qkv + ".bias",
                     {3 * Q},
                     HfLayout::kRows,
                     i * Q,
                     Q});
    }
  }
  // The Conv3d's two frames (llama.cpp's .weight and .weight.1).
  void conv3d(const std::string& name) {
    const int64_t H = c_.hidden_size, P = c_.patch_size;
    for (int64_t t = 0; t < 2; ++t)
      out.push_back({t == 0 ? "v.patch_embd.weight" : "v.patch_embd.weight.1",
                     HfPart::kTower,
                     name,
                     {H, 3, 2, P, P},
                     HfLayout::kConv3dFrame,
                     t,
                     0});
  }

  std::vector<HfVisionTensor> out;

 private:
  const VisionConfig& c_;
};

// SigLIP (vision_tower.vision_model.*) and Gemma3MultiModalProjector (multi_modal_projector.*).
void gemma3(const VisionConfig& c, Table& t) {
  const int64_t H = c.hidden_size, F = c.intermediate_size, Q = c.q_dim(), P = c.patch_size;
  t.out.push_back({"v.patch_embd.weight",
                   HfPart::kTower,
                   "embeddings.patch_embedding.weight",
                   {H, 3, P, P},
                   HfLayout::kConv2d,
                   0,
                   0});
  t.same("v.patch_embd.bias", "embeddings.patch_embedding.bias", {H});
  t.same("v.position_embd.weight", "embeddings.position_embedding.weight", {c.num_patches(), H});
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string p = "v.blk." + std::to_string(i) + ".";
    const std::string h = "encoder.layers." + std::to_string(i) + ".";
    t.norm(p + "ln1", h + "layer_norm1", H, true);
    t.linear(p + "attn_q", h + "self_attn.q_proj", Q, H);
    t.linear(p + "attn_k", h + "self_attn.k_proj", Q, H);
    t.linear(p + "attn_v", h + "self_attn.v_proj", Q, H);
    t.linear(p + "attn_out", h + "self_attn.out_proj", H, Q);
    t.norm(p + "ln2", h + "layer_norm2", H, true);
    t.linear(p + "ffn_up", h + "mlp.fc1", F, H);
    t.linear(p + "ffn_down", h + "mlp.fc2", H, F);
  }
  t.norm("v.post_ln", "post_layernorm", H, true);
  t.out.push_back({"mm.soft_emb_norm.weight",
                   HfPart::kProjector,
                   "mm_soft_emb_norm.weight",
                   {H},
                   HfLayout::kPlusOne,
                   0,
                   0});
  // x . W with W [vision hidden, text hidden]: the mmproj's ggml [text, vision] as it is.
  t.same("mm.input_projection.weight", "mm_input_projection_weight", {H, c.projection_dim},
         HfPart::kProjector);
}

// Qwen2-VL (LayerNorm, fc1/fc2) and Qwen2.5-VL (RMSNorm, SwiGLU): visual.*.
void qwen2vl(const VisionConfig& c, Table& t) {
  const bool v25 = c.projector == ProjectorType::kQwen25VL;
  const int64_t H = c.hidden_size, F = c.intermediate_size, Q = c.q_dim();
  const int64_t M = c.merge_size * c.merge_size * H;
  t.conv3d("patch_embed.proj.weight");
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string p = "v.blk." + std::to_string(i) + ".";
    const std::string h = "blocks." + std::to_string(i) + ".";
    t.norm(p + "ln1", h + "norm1", H, !v25);
    t.split_qkv(p, h + "attn.qkv");
    t.linear(p + "attn_out", h + "attn.proj", H, Q);
    t.norm(p + "ln2", h + "norm2", H, !v25);
    if (v25) {
      t.linear(p + "ffn_gate", h + "mlp.gate_proj", F, H);
      t.linear(p + "ffn_up", h + "mlp.up_proj", F, H);
      t.linear(p + "ffn_down", h + "mlp.down_proj", H, F);
    } else {
      t.linear(p + "ffn_up", h + "mlp.fc1", F, H);
      t.linear(p + "ffn_down", h + "mlp.fc2", H, F);
    }
  }
  t.norm("v.post_ln", "merger.ln_q", H, !v25);
  t.linear("mm.0", "merger.mlp.0", M, M);
  t.linear("mm.2", "merger.mlp.2", c.projection_dim, M);
}

// Qwen3-VL: learned positions, fused qkv, linear_fc1/fc2, DeepStack mergers (model.visual.*).
void qwen3vl(const VisionConfig& c, Table& t) {
  const int64_t H = c.hidden_size, F = c.intermediate_size, Q = c.q_dim();
  const int64_t M = c.merge_size * c.merge_size * H;
  t.conv3d("patch_embed.proj.weight");
  t.same("v.patch_embd.bias", "patch_embed.proj.bias", {H});
  t.same("v.position_embd.weight", "pos_embed.weight", {c.position_grid * c.position_grid, H});
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string p = "v.blk." + std::to_string(i) + ".";
    const std::string h = "blocks." + std::to_string(i) + ".";
    t.norm(p + "ln1", h + "norm1", H, true);
    t.linear(p + "attn_qkv", h + "attn.qkv", 3 * Q, H);
    t.linear(p + "attn_out", h + "attn.proj", H, Q);
    t.norm(p + "ln2", h + "norm2", H, true);
    t.linear(p + "ffn_up", h + "mlp.linear_fc1", F, H);
    t.linear(p + "ffn_down", h + "mlp.linear_fc2", H, F);
  }
  t.norm("v.post_ln", "merger.norm", H, true);
  t.linear("mm.0", "merger.linear_fc1", M, M);
  t.linear("mm.2", "merger.linear_fc2", c.projection_dim, M);
  for (size_t k = 0; k < c.deepstack_layers.size(); ++k) {
    const std::string p = "v.deepstack." + std::to_string(c.deepstack_layers[k]) + ".";
    const std::string h = "deepstack_merger_list." + std::to_string(k) + ".";
    t.norm(p + "norm", h + "norm", M, true);
    t.linear(p + "fc1", h + "linear_fc1", M, M);
    t.linear(p + "fc2", h + "linear_fc2", c.projection_dim, M);
  }
}

}  // namespace

std::vector<HfVisionTensor> hf_vision_tensors(const VisionConfig& c) {
  Table t(c);
  if (c.projector == ProjectorType::kGemma3)
    gemma3(c, t);
  else if (c.projector == ProjectorType::kQwen3VL)
    qwen3vl(c, t);
  else
    qwen2vl(c, t);
  return std::move(t.out);
}

std::vector<std::string> hf_part_prefixes(ProjectorType t, HfPart part) {
  if (t == ProjectorType::kGemma3)
    return part == HfPart::kTower
               ? std::vector<std::string>{"vision_tower.vision_model.",
                                          "model.vision_tower.vision_model."}
               : std::vector<std::string>{"multi_modal_projector.", "model.multi_modal_projector."};
  return {"visual.", "model.visual.", "vision_tower."};
}

std::string hf_write_prefix(ProjectorType t, HfPart part, bool mlx) {
  if (t == ProjectorType::kGemma3)
    return part == HfPart::kTower ? "vision_tower.vision_model." : "multi_modal_projector.";
  if (mlx) return "vision_tower.";
  return t == ProjectorType::kQwen3VL ? "model.visual." : "visual.";
}

std::vector<int64_t> mlx_conv_shape(const std::vector<int64_t>& hf_shape) {
  std::vector<int64_t> s = hf_shape;
  if (s.size() >= 3) std::rotate(s.begin() + 1, s.begin() + 2, s.end());
  return s;
}

int64_t conv_index(const std::vector<int64_t>& s, bool mlx, int64_t h, int64_t c, int64_t t,
                   int64_t y, int64_t x) {
  const int64_t P = s.back(), C = s[1];
  if (s.size() == 4) return mlx ? ((h * P + y) * P + x) * C + c : ((h * C + c) * P + y) * P + x;
  const int64_t T = s[2];
  return mlx ? (((h * T + t) * P + y) * P + x) * C + c : (((h * C + c) * T + t) * P + y) * P + x;
}

}  // namespace sluice
