#include "api/server_context.h"

namespace sluice::api {

void ServerContext::check_model(const std::string& requested) const {
  if (options.strict_model_id && requested != model_id)
    throw ApiError(
        ErrorKind::kModelNotFound,
        "the model '" + requested + "' does not exist; this server serves '" + model_id + "'",
        "model");
}

void ServerContext::require_task(const std::string& method, const std::string& route) const {
  if (method != "POST") return;  // health, model list, metrics, stored responses: every task
  const bool embeddings_route = route == "/v1/embeddings";
  if (task == ServedTask::kEmbed && !embeddings_route)
    throw invalid("the model '" + model_id + "' is an embedding model: this server serves " +
                  "POST /v1/embeddings only, not " + route);
  if (task == ServedTask::kGenerate && embeddings_route)
    throw invalid("the model '" + model_id + "' is a text generation model: this server serves " +
                  "chat, completions, messages and responses, not embeddings");
}

}  // namespace sluice::api
