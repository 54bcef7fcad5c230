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
  int64_t n = 0;                   // patch rows: num_images * num_patches
  SequenceBatch seqs;              // one sequence per image
  const float* patches = nullptr;  // [n, 3 * patch * patch] (patchify)
  float* x = nullptr;              // [n, hidden] hidden states
  float* h = nullptr;              // [n, hidden] normed input / block output
  float *q = nullptr, *k = nullptr, *v = nullptr, *attn = nullptr;  // [n, q_dim] each
  float* inter = nullptr;                                           // [n, intermediate]
  float* pooled = nullptr;  // [num_images * tokens_per_image, hidden]
  float* out = nullptr;     // [num_images * tokens_per_image, projection_dim]
};

struct VisionContext {
  Backend& be;
  const VisionConfig& config;
  const VisionWeights& w;  // placed on be
  const VisionStepBuffers& s;
};

}  // namespace sluice
