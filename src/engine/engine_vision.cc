#include "engine/engine_vision.h"

#include <cstdio>

#include "model/vision/hf_mmproj_tensors.h"
#include "model/vision/hf_vision_config.h"

namespace sluice {

Result<std::unique_ptr<VisionTower>> load_engine_vision(const Model& model,
                                                        const EngineConfig& config, Backend& be) {
  std::string path = config.mmproj, source = "--mmproj " + config.mmproj;
  if (path.empty() && has_vision_config(model.path())) {
    if (!holds_vision_tensors(model.path())) {
      std::fprintf(stderr,
                   "sluice: warning: %s: config.json has a vision_config but no vision tower "
                   "tensors; serving it as a text model\n",
                   model.path().c_str());
      return std::unique_ptr<VisionTower>();
    }
    path = model.path(), source = "the vision tower of " + model.path();
  }
  if (path.empty()) return std::unique_ptr<VisionTower>();
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<VisionTower> vision, VisionTower::load(path, be));
  const ModelConfig& c = model.config();
  if (vision->embedding_dim() != c.image_embedding_width())  // hidden * (1 + deepstack)
    return Status::error(
        "engine", source + " projects images to " + std::to_string(vision->embedding_dim()) +
                      " dimensions; the model takes " + std::to_string(c.image_embedding_width()) +
                      " (hidden size " + std::to_string(c.hidden_size) + ", deepstack layers " +
                      std::to_string(c.num_deepstack_layers) + ")");
  if (!vision->dynamic_resolution() && vision->tokens_per_image() > config.max_num_batched_tokens)
    return Status::error("engine", "an image takes " + std::to_string(vision->tokens_per_image()) +
                                       " tokens, more than --max-num-batched-tokens " +
                                       std::to_string(config.max_num_batched_tokens));
  return vision;
}

}  // namespace sluice
