// load_vision_weights: llama.cpp's mmproj tensor names and layouts -> sluice's Weights.
#include "model/vision/vision_weights.h"

#include "model/vision/gguf_mmproj_tensors.h"
#include "model/vision/mmproj_tensors.h"
#include "model/vision/qwen2vl_weights.h"
#include "model/vision/qwen3vl_weights.h"

namespace sluice {
namespace {

Status load_siglip_layer(const MmprojTensors& r, const VisionConfig& c, int64_t i, bool swapped,
                         VisionLayerWeights& L) {
  const std::string p = "v.blk." + std::to_string(i) + ".";
  const int64_t H = c.hidden_size;
  SLUICE_ASSIGN_OR_RETURN(L.ln1_w, r.vector(p + "ln1.weight", H));
  SLUICE_ASSIGN_OR_RETURN(L.ln1_b, r.vector(p + "ln1.bias", H));
  SLUICE_RETURN_IF_ERROR(load_layer_attention(r, p, c, L));
  SLUICE_ASSIGN_OR_RETURN(L.ln2_w, r.vector(p + "ln2.weight", H));
  SLUICE_ASSIGN_OR_RETURN(L.ln2_b, r.vector(p + "ln2.bias", H));
  return load_layer_up_down(r, p, c, swapped, L);
}

}  // namespace

Result<VisionWeights> load_vision_weights(const GgufFile& g, const VisionConfig& c) {
  return load_vision_weights(GgufMmprojTensors(g), c);
}

Result<VisionWeights> load_vision_weights(const MmprojTensors& r, const VisionConfig& c) {
  if (c.projector == ProjectorType::kQwen3VL) return load_qwen3vl_weights(r, c);
  if (is_qwen2vl_family(c.projector)) return load_qwen2vl_weights(r, c);
  VisionWeights w;
  const int64_t H = c.hidden_size;
  SLUICE_ASSIGN_OR_RETURN(w.patch_embed, r.patch_conv("v.patch_embd.weight", H, c.patch_size));
  SLUICE_ASSIGN_OR_RETURN(w.patch_bias, r.vector("v.patch_embd.bias", H));
  SLUICE_ASSIGN_OR_RETURN(Weight pos, r.matrix("v.position_embd.weight", c.num_patches(), H));
  w.position_embed = to_f32(pos);
  const bool swapped = ffn_names_swapped(r, c);
  w.layers.resize(static_cast<size_t>(c.num_layers));
  for (int64_t i = 0; i < c.num_layers; ++i)
    SLUICE_RETURN_IF_ERROR(load_siglip_layer(r, c, i, swapped, w.layers[static_cast<size_t>(i)]));
  SLUICE_ASSIGN_OR_RETURN(w.post_norm_w, r.vector("v.post_ln.weight", H));
  SLUICE_ASSIGN_OR_RETURN(w.post_norm_b, r.vector("v.post_ln.bias", H));
  SLUICE_ASSIGN_OR_RETURN(w.soft_emb_norm, r.vector("mm.soft_emb_norm.weight", H));
  SLUICE_ASSIGN_OR_RETURN(Weight proj, r.matrix("mm.input_projection.weight", H, c.projection_dim));
  w.input_projection = transposed(proj);
  return w;
}

}  // namespace sluice
