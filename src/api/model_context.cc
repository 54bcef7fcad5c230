#include "api/model_context.h"

namespace sluice::api {

namespace {

bool is_rerank_route(const std::string& route) {
  return route == "/v1/rerank" || route == "/rerank" || route == "/v2/rerank";
}

}  // namespace

void ModelContext::require_task(const std::string& method, const std::string& route) const {
  if (method != "POST") return;  // health, model list, metrics, stored responses: every task
  const bool embeddings_route = route == "/v1/embeddings";
  const bool rerank_route = is_rerank_route(route);
  if (task == ServedTask::kEmbed && !embeddings_route)
    throw invalid("the model '" + model_id + "' is an embedding model: this server serves " +
                  "POST /v1/embeddings only, not " + route);
  if (task == ServedTask::kRerank && !rerank_route)
    throw invalid("the model '" + model_id + "' is a rerank model: this " +
                  "server serves POST /v1/rerank only, not " + route);
  if (task == ServedTask::kGenerate && (embeddings_route || rerank_route))
    throw invalid("the model '" + model_id + "' is a text generation model: this server serves " +
                  "chat, completions, messages and responses, not " +
                  (embeddings_route ? "embeddings" : "rerank"));
}

}  // namespace sluice::api
