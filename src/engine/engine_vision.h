#pragma once
// The vision tower an engine runs: --mmproj FILE where given (it wins over a directory's own
// tower, so a quantized or alternative projector can be tried), else the tower of a VLM
// checkpoint directory (config.json with a vision_config: model/vision/hf_vision_config.h).
// A directory whose config names a tower but which holds none of its tensors (a text-only
// conversion) is served as text, with a warning.
#include <memory>

#include "backend/backend.h"
#include "common/status.h"
#include "engine/engine_config.h"
#include "model/model.h"
#include "model/vision/vision_tower.h"

namespace sluice {

// Null for a text-only model. Errors: the tower's own, or one whose soft tokens do not fit the
// model (width, or a fixed image larger than the step budget).
Result<std::unique_ptr<VisionTower>> load_engine_vision(const Model& model,
                                                        const EngineConfig& config, Backend& be);

}  // namespace sluice
