#pragma once
// `sluice logits --image-embeddings`: a test and debug path for the text side of a vision model
// with no vision tower loaded. Each image comes as precomputed rows (a raw little-endian float32
// file [rows * cols, ModelConfig::image_embedding_width()], e.g. from a reference tower) and its
// merged grid; the prompt runs with M-RoPE positions over each grid and the rows spliced in
// (deepstack slices included), in steps of `chunk` tokens that may cut an image. Not the served
// path: the engine's scheduler and encoder cache are not involved.
#include <cstdint>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "common/status.h"
#include "model/model.h"

namespace sluice {

struct EmbeddedImage {
  std::string path;            // raw float32 rows
  int32_t rows = 0, cols = 0;  // merged token grid
};

// words: token ids and `<image>`s (one per image, in order). The last position's logits [vocab].
Result<std::vector<float>> logits_with_embeddings(const Model& model, Backend& backend,
                                                  const std::vector<std::string>& words,
                                                  const std::vector<EmbeddedImage>& images,
                                                  int64_t chunk);

}  // namespace sluice
