#pragma once
// What the vision tower's forward works with for one call: the backend, the config, the placed
// weights and the call's buffers (a batch of whole images, each one sequence of patch rows).
#include <cstdint>

#include "backend/backend.h"
#include "model/vision/vision_config.h"
#include "model/vision/vision_weights.h"

namespace sluice {

struct VisionStepBuffers {
  int64_t num_images = 0;
  int64_t n = 0;                   // patch rows of all images
  int64_t m = 0;                   // output tokens of all images
  SequenceBatch seqs;              // one sequence per image
  const float* patches = nullptr;  // [n, 3 * patch * patch] (patchify); a video's: [n, 2 * ...]
  bool video = false;              // patches of frame pairs: w.patch_embed_video embeds them
  float* x = nullptr;              // [n, hidden] hidden states
  float* h = nullptr;              // [n, hidden] normed input / block output
  float *q = nullptr, *k = nullptr, *v = nullptr, *attn = nullptr;  // [n, q_dim] each
  float* inter = nullptr;                                           // [n, intermediate]
  float* pooled = nullptr;  // [m, hidden] (Gemma 3); [m, 4 * hidden] the merger's MLP (Qwen)
  float* out = nullptr;     // [m, projection_dim] (Qwen3-VL: [m, token_width])
  // Qwen2-VL family (qwen2vl_layout.h): rows in window order.
  SequenceBatch windows;                             // one sequence per attention window
  const int32_t *pos_y = nullptr, *pos_x = nullptr;  // [n] each row's patch in its image's grid
  const int32_t* out_rows = nullptr;  // [m * (1 + num_deepstack)] the s.merged row of each
                                      // row of s.out viewed as [m * (1 + ...), projection_dim]
  float* gate = nullptr;              // [n, intermediate] SwiGLU's gate
  float* merged = nullptr;            // [(1 + num_deepstack) * m, projection_dim] in window order
  const float* pos_embed = nullptr;   // [n, hidden] Qwen3-VL's interpolated learned positions
};

struct VisionContext {
  Backend& be;
  const VisionConfig& config;
  const VisionWeights& w;  // placed on be
  const VisionStepBuffers& s;
};

}  // namespace sluice
