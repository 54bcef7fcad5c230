#include "api/server_context.h"

namespace sluice::api {

void ServerContext::check_model(const std::string& requested) const {
  if (options.strict_model_id && requested != model_id)
    throw ApiError(
        ErrorKind::kModelNotFound,
        "the model '" + requested + "' does not exist; this server serves '" + model_id + "'",
        "model");
}

}  // namespace sluice::api
