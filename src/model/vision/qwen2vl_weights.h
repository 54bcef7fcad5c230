#pragma once
// The weights of Qwen2-VL's and Qwen2.5-VL's vision towers in llama.cpp's mmproj names, as its
// converter (conversion/qwenvl.py) writes them from transformers' visual.* tensors:
//   v.patch_embd.weight, .weight.1   the Conv3d [hidden, 3, 2, P, P] split into its two frames
//   v.blk.N.{ln1,ln2}                norm1/norm2 (RMSNorm in 2.5, LayerNorm with bias in 2)
//   v.blk.N.attn_{q,k,v,out}         attn.qkv split in three, attn.proj (all with biases)
//   v.blk.N.ffn_{gate,up,down}       mlp.gate_proj/up_proj/down_proj (2.5) or mlp.fc1/fc2 (2)
//   v.post_ln, mm.0, mm.2            merger.ln_q, merger.mlp.0 and merger.mlp.2
#include "common/status.h"
#include "model/vision/vision_config.h"
#include "model/vision/vision_weights.h"

namespace sluice {

class MmprojTensors;

// Every tensor, shapes checked. A still image fills both frames of the temporal patch, so the
// two patch convolutions are summed into one F32 matrix (one conv alone when .weight.1 is
// absent). The tensors' source must outlive the weights.
Result<VisionWeights> load_qwen2vl_weights(const MmprojTensors& tensors, const VisionConfig& c);

// v.patch_embd.weight (+ .weight.1, the second frame, when present) as one F32 matrix
// [hidden, 3 * P * P].
Result<Weight> summed_patch_conv(const MmprojTensors& r, const VisionConfig& c);
// The two frames' convolutions side by side, F32 [hidden, 2 * 3 * P * P] (columns: frame, then
// channel, y, x), for videos; empty when the file has one frame only (.weight.1 absent).
Result<Weight> video_patch_conv(const MmprojTensors& r, const VisionConfig& c);
// w.rope_freq_y / rope_freq_x of the 2D RoPE (qwen2vl_encoder.h).
void set_vision_rope(const VisionConfig& c, VisionWeights& w);

}  // namespace sluice
