#include "api/server_state.h"

#include "api/api_error.h"
#include "api/model_registry.h"

namespace sluice::api {

ServerState::ServerState() = default;
ServerState::~ServerState() = default;

void ServerState::require_running() const {
  if (draining.load()) throw ApiError(ErrorKind::kUnavailable, "the server is shutting down");
}

}  // namespace sluice::api
