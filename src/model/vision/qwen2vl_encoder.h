#pragma once
// Qwen2-VL's, Qwen2.5-VL's and Qwen3-VL's vision transformer over VisionContext (transformers'
// Qwen2VisionTransformerPretrainedModel / Qwen2_5_VisionTransformerPretrainedModel /
// Qwen3VLVisionModel up to the merger), rows in window order (qwen2vl_layout.h):
//   x = patches . (conv_frame0 + conv_frame1)^T       (the Conv3d on a still image; no bias but
//       in 3, which also adds its learned positions: s.pos_embed, qwen3vl_positions.h)
//   a video's: x = [patch_a, patch_b] . [conv_frame0, conv_frame1]^T over each frame pair, each
//       pair then one sequence as an image is (transformers' cu_seqlens per temporal patch)
//   per layer: x += attn(norm1(x)); x += mlp(norm2(x))
//     norm: RMSNorm (2.5) or LayerNorm (2, 3); mlp: down(silu(gate) * up) (2.5),
//     fc2(quick_gelu(fc1)) (2) or fc2(gelu_tanh(fc1)) (3), with biases
//     3: after each layer of config.deepstack_layers, its DeepStack merger (qwen2vl_merger.h)
//     attn: q, k, v with biases, 2D RoPE on q and k, bidirectional within each window
//     (Qwen2.5-VL's windowed layers) or each image, out projection with bias
// 2D RoPE: head dims split in halves rotated NeoX-style (i, i + head_dim/2); pair i < head_dim/4
// turns by the patch's row * 10000^(-4i/head_dim), the next quarter by its column (two RoPE
// passes: each leaves the other quarter's pairs at angle 0, an exact identity).
#include "model/vision/vision_context.h"

namespace sluice {

// s.x = the encoder's last hidden states of every image's patch rows (before the merger's norm).
void qwen2vl_encode(const VisionContext& f);

}  // namespace sluice
