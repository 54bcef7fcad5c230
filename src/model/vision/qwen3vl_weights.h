#pragma once
// The weights of Qwen3-VL's vision tower in llama.cpp's mmproj names, as its converter
// (conversion/qwen3vl.py) writes them from transformers' visual.* tensors:
//   v.patch_embd.weight, .weight.1, .bias  the Conv3d [hidden, 3, 2, P, P] split in two frames
//   v.position_embd.weight                 pos_embed: the learned [side^2, hidden] table
//   v.blk.N.{ln1,ln2}                      norm1/norm2 (LayerNorm with bias)
//   v.blk.N.attn_qkv, attn_out             attn.qkv (fused, rows q then k then v), attn.proj
//   v.blk.N.ffn_up, ffn_down               mlp.linear_fc1, mlp.linear_fc2 (all with biases)
//   v.post_ln, mm.0, mm.2                  merger.norm, merger.linear_fc1 and linear_fc2
//   v.deepstack.N.{norm,fc1,fc2}           deepstack_merger_list[k] of layer N (absolute index)
#include "common/status.h"
#include "model/vision/vision_config.h"
#include "model/vision/vision_weights.h"

namespace sluice {

class MmprojTensors;

// Every tensor, shapes checked: a layer of c.deepstack_layers without its v.deepstack.N.*
// tensors fails here. qkv is split into wq, wk, wv; the two patch convolutions are summed (a
// still image fills both frames). The tensors' source must outlive the weights.
Result<VisionWeights> load_qwen3vl_weights(const MmprojTensors& tensors, const VisionConfig& c);

}  // namespace sluice
