#pragma once
// Loads one model of the registry into a ModelContext: the task it serves (generation,
// embeddings, rerank), its weights and engine, its chat template and output parsing.
#include <string>

#include "api/model_registry.h"
#include "engine/engine_config.h"

namespace sluice::api {

struct ModelLoadOptions {
  EngineConfig engine;        // --mmproj here applies to a model without one of its own
  std::string chat_template;  // a Jinja file that replaces the model's template ("": its own)
  std::string task = "auto";  // auto | generate | embed | rerank | score
};

// What `path` serves under `task` (see `sluice serve --task`); the decoder pooling in *pooling.
Result<ServedTask> served_task(const std::string& path, const std::string& task,
                               DecoderPooling* pooling);

Result<ModelLease> load_model(ServerState& server, const ModelSpec& spec,
                              const ModelLoadOptions& options);

}  // namespace sluice::api
