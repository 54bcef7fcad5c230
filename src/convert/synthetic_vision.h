#pragma once
// Deterministic random-weight vision towers for Gemma 3 VLMs (`make-model --vision`): an mmproj
// GGUF with exactly the names, metadata and tensor types llama.cpp's converter writes
// (conversion/gemma.py Gemma3VisionModel), beside the text model's GGUF.
#include <cstdint>
#include <string>

#include "common/status.h"
#include "formats/gguf.h"
#include "model/vision/vision_config.h"

namespace sluice {

// tiny (tests: 224 px, 16x16 patches of 14, width 96, 2 layers, 16 tokens) or gemma3-4b
// (SigLIP-so400m as in Gemma 3 4B/12B/27B: 896 px, width 1152, 27 layers, 256 tokens).
// projection_dim: the text model's hidden size.
Result<VisionConfig> vision_preset(const std::string& preset, int64_t projection_dim);

struct MmprojWriteOptions {
  // The converter's --outtype: the encoder's matrices in F32, F16 or Q8_0 (rows whose width is
  // not a multiple of 32 fall back to F16). Vectors, the patch and position embeddings stay F32
  // and the input projection F16, as the converter forces them.
  GgufType matrix_type = GgufType::F16;
  uint64_t seed = 0;
  std::string name = "sluice-synthetic-mmproj";
};

Status write_synthetic_mmproj(const VisionConfig& c, const MmprojWriteOptions& o,
                              const std::string& out);

}  // namespace sluice
