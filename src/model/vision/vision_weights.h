#pragma once
// The weights of an image encoder and its projector (SigLIP + Gemma 3; Qwen2-VL's ViT + patch
// merger), loaded by llama.cpp's mmproj tensor names (from the GGUF or a model directory:
// mmproj_tensors.h) (v.*, mm.*;
// tools/mtmd/clip-impl.h). Matrices are [rows = outputs, cols = inputs] as everywhere in sluice;
// vectors (norms, biases) are F32 [1, n]; a weight a family does not have stays empty. The same
// struct holds them as loaded (host, mostly pointing into the mapped file) and as placed.
#include <array>
#include <cstdint>
#include <vector>

#include "backend/weight.h"
#include "common/status.h"
#include "model/vision/vision_config.h"

namespace sluice {

class GgufFile;
class MmprojTensors;

// One pre-norm encoder layer: x += attn(ln1(x)); x += mlp(ln2(x)).
struct VisionLayerWeights {
  Weight ln1_w, ln1_b;            // [1, hidden]           v.blk.N.ln1 (RMSNorm: no bias)
  Weight wq, wk, wv;              // [q_dim, hidden]       v.blk.N.attn_{q,k,v}
  Weight q_bias, k_bias, v_bias;  // [1, q_dim]
  Weight wo, o_bias;              // [hidden, q_dim], [1, hidden]   v.blk.N.attn_out
  Weight ln2_w, ln2_b;            // [1, hidden]           v.blk.N.ln2
  Weight w_up, up_bias;           // [ffn, hidden], [1, ffn]        v.blk.N.ffn_up (fc1)
  Weight w_down, down_bias;       // [hidden, ffn], [1, hidden]     v.blk.N.ffn_down (fc2)
  Weight w_gate, gate_bias;       // [ffn, hidden], [1, ffn]        v.blk.N.ffn_gate (SwiGLU)
};

// Every Weight of a layer, for code that walks them all (placing them, comparing two towers).
inline constexpr std::array kVisionLayerWeights = {
    &VisionLayerWeights::ln1_w,     &VisionLayerWeights::ln1_b,   &VisionLayerWeights::wq,
    &VisionLayerWeights::wk,        &VisionLayerWeights::wv,      &VisionLayerWeights::q_bias,
    &VisionLayerWeights::k_bias,    &VisionLayerWeights::v_bias,  &VisionLayerWeights::wo,
    &VisionLayerWeights::o_bias,    &VisionLayerWeights::ln2_w,   &VisionLayerWeights::ln2_b,
    &VisionLayerWeights::w_up,      &VisionLayerWeights::up_bias, &VisionLayerWeights::w_down,
    &VisionLayerWeights::down_bias, &VisionLayerWeights::w_gate,  &VisionLayerWeights::gate_bias};

// Qwen3-VL's DeepStack merger of one layer's output: LayerNorm over each 2x2 unit's 4 * hidden
// features, then fc2(gelu(fc1(.))) (v.deepstack.N.*, N the layer).
struct DeepstackMergerWeights {
  Weight norm_w, norm_b;  // [1, 4 hidden]
  Weight fc1, fc1_bias;   // [4 hidden, 4 hidden], [1, 4 hidden]
  Weight fc2, fc2_bias;   // [projection_dim, 4 hidden], [1, projection_dim]
};

struct VisionWeights {
  Weight patch_embed;        // [hidden, 3 * patch * patch], columns (channel, y, x)
  Weight patch_embed_video;  // Qwen2-VL family: [hidden, 2 * 3 * patch * patch] F32, columns
                             // (frame, channel, y, x): the Conv3d's two frames side by side
  Weight patch_bias;         // [1, hidden]   (SigLIP, Qwen3-VL)
  Weight position_embed;     // [num_patches, hidden] F32   (SigLIP; Qwen3-VL: its learned
                             // [position_grid^2, hidden] table, which the host interpolates)
  std::vector<VisionLayerWeights> layers;
  Weight post_norm_w, post_norm_b;  // [1, hidden]  v.post_ln (Qwen: the merger's ln_q)
  // Gemma 3's projector.
  Weight soft_emb_norm;     // [1, hidden]  Gemma RMSNorm weight as stored: 1 + w
  Weight input_projection;  // [projection_dim, hidden] (the file holds its transpose)
  // Qwen2-VL's patch merger MLP over 2x2 patches (4 * hidden wide) and the ViT's 2D RoPE.
  Weight merger_fc1, merger_fc1_bias;  // [4 hidden, 4 hidden], [1, 4 hidden]   mm.0
  Weight merger_fc2, merger_fc2_bias;  // [projection_dim, 4 hidden], [1, projection_dim]  mm.2
  Weight rope_freq_y, rope_freq_x;     // [1, head_dim / 2] F32 (see qwen2vl_encoder.h)
  std::vector<DeepstackMergerWeights> deepstack;  // Qwen3-VL: one per config.deepstack_layers
};

// Every tensor of the config's encoder and projector, shapes checked. Older converters named
// fc1 ffn_down and fc2 ffn_up; those files are read as llama.cpp reads them (by shape).
// Qwen families load through load_qwen2vl_weights / load_qwen3vl_weights.
// The tensors' source (and its file) must outlive the weights (most point into its mapping).
Result<VisionWeights> load_vision_weights(const MmprojTensors& tensors, const VisionConfig& c);
// The same from an mmproj GGUF.
Result<VisionWeights> load_vision_weights(const GgufFile& gguf, const VisionConfig& c);

}  // namespace sluice
