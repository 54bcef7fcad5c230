#include "model/vision/qwen3vl_weights.h"

#include <cstring>

#include "model/vision/mmproj_tensors.h"
#include "model/vision/qwen2vl_weights.h"

namespace sluice {
namespace {

// Floats [first, first + n) of an F32 vector [1, len] as their own vector [1, n].
Weight vector_slice(const Weight& v, int64_t first, int64_t n) {
  std::vector<uint8_t> bytes(static_cast<size_t>(n) * sizeof(float));
  std::memcpy(bytes.data(), v.data + static_cast<size_t>(first) * sizeof(float), bytes.size());
  return Weight::from_owned(DType::F32, 1, n, std::move(bytes));
}

// attn_qkv [3 q_dim, hidden] (ggml [hidden, 3 q_dim]) split by rows into q, k and v.
Status load_fused_attention(const MmprojTensors& r, const std::string& p, const VisionConfig& c,
                            VisionLayerWeights& L) {
  const int64_t H = c.hidden_size, Q = c.q_dim();
  SLUICE_ASSIGN_OR_RETURN(Weight qkv, r.matrix(p + "attn_qkv.weight", 3 * Q, H));
  SLUICE_ASSIGN_OR_RETURN(Weight qkv_bias, r.vector(p + "attn_qkv.bias", 3 * Q));
  L.wq = qkv.rows_view(0, Q), L.wk = qkv.rows_view(Q, Q), L.wv = qkv.rows_view(2 * Q, Q);
  L.q_bias = vector_slice(qkv_bias, 0, Q);
  L.k_bias = vector_slice(qkv_bias, Q, Q);
  L.v_bias = vector_slice(qkv_bias, 2 * Q, Q);
  SLUICE_ASSIGN_OR_RETURN(L.wo, r.matrix(p + "attn_out.weight", H, Q));
  SLUICE_ASSIGN_OR_RETURN(L.o_bias, r.vector(p + "attn_out.bias", H));
  return Status::ok();
}

Status load_layer(const MmprojTensors& r, const VisionConfig& c, int64_t i, bool swapped,
                  VisionLayerWeights& L) {
  const std::string p = "v.blk." + std::to_string(i) + ".";
  const int64_t H = c.hidden_size;
  SLUICE_ASSIGN_OR_RETURN(L.ln1_w, r.vector(p + "ln1.weight", H));
  SLUICE_ASSIGN_OR_RETURN(L.ln1_b, r.vector(p + "ln1.bias", H));
  SLUICE_ASSIGN_OR_RETURN(L.ln2_w, r.vector(p + "ln2.weight", H));
  SLUICE_ASSIGN_OR_RETURN(L.ln2_b, r.vector(p + "ln2.bias", H));
  SLUICE_RETURN_IF_ERROR(load_fused_attention(r, p, c, L));
  return load_layer_up_down(r, p, c, swapped, L);
}

Status load_deepstack(const MmprojTensors& r, const VisionConfig& c, int64_t layer,
                      DeepstackMergerWeights& d) {
  const std::string p = "v.deepstack." + std::to_string(layer) + ".";
  const int64_t M = c.merge_size * c.merge_size * c.hidden_size;
  SLUICE_ASSIGN_OR_RETURN(d.norm_w, r.vector(p + "norm.weight", M));
  SLUICE_ASSIGN_OR_RETURN(d.norm_b, r.vector(p + "norm.bias", M));
  SLUICE_ASSIGN_OR_RETURN(d.fc1, r.matrix(p + "fc1.weight", M, M));
  SLUICE_ASSIGN_OR_RETURN(d.fc1_bias, r.vector(p + "fc1.bias", M));
  SLUICE_ASSIGN_OR_RETURN(d.fc2, r.matrix(p + "fc2.weight", c.projection_dim, M));
  SLUICE_ASSIGN_OR_RETURN(d.fc2_bias, r.vector(p + "fc2.bias", c.projection_dim));
  return Status::ok();
}

}  // namespace

Result<VisionWeights> load_qwen3vl_weights(const MmprojTensors& r, const VisionConfig& c) {
  VisionWeights w;
  const int64_t H = c.hidden_size, M = c.merge_size * c.merge_size * H;
  SLUICE_ASSIGN_OR_RETURN(w.patch_embed, summed_patch_conv(r, c));
  SLUICE_ASSIGN_OR_RETURN(w.patch_embed_video, video_patch_conv(r, c));
  SLUICE_ASSIGN_OR_RETURN(w.patch_bias, r.vector("v.patch_embd.bias", H));
  SLUICE_ASSIGN_OR_RETURN(Weight pos,
                          r.matrix("v.position_embd.weight", c.position_grid * c.position_grid, H));
  w.position_embed = to_f32(pos);
  const bool swapped = ffn_names_swapped(r, c);
  w.layers.resize(static_cast<size_t>(c.num_layers));
  for (int64_t i = 0; i < c.num_layers; ++i)
    SLUICE_RETURN_IF_ERROR(load_layer(r, c, i, swapped, w.layers[static_cast<size_t>(i)]));
  SLUICE_ASSIGN_OR_RETURN(w.post_norm_w, r.vector("v.post_ln.weight", H));
  SLUICE_ASSIGN_OR_RETURN(w.post_norm_b, r.vector("v.post_ln.bias", H));
  SLUICE_ASSIGN_OR_RETURN(w.merger_fc1, r.matrix("mm.0.weight", M, M));
  SLUICE_ASSIGN_OR_RETURN(w.merger_fc1_bias, r.vector("mm.0.bias", M));
  SLUICE_ASSIGN_OR_RETURN(w.merger_fc2, r.matrix("mm.2.weight", c.projection_dim, M));
  SLUICE_ASSIGN_OR_RETURN(w.merger_fc2_bias, r.vector("mm.2.bias", c.projection_dim));
  w.deepstack.resize(c.deepstack_layers.size());
  for (size_t k = 0; k < c.deepstack_layers.size(); ++k)
    SLUICE_RETURN_IF_ERROR(load_deepstack(r, c, c.deepstack_layers[k], w.deepstack[k]));
  set_vision_rope(c, w);
  return w;
}

}  // namespace sluice
