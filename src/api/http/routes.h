#pragma once
// Route groups; each registers its endpoints on the server.
#include "api/server_context.h"

namespace httplib {
class Server;
}

namespace sluice::api {

// GET /health, /v1/models, /v1/models/{id}, /metrics
void register_misc_routes(httplib::Server& server, ServerContext& ctx);
// POST /v1/chat/completions, /v1/completions, /tokenize, /detokenize
void register_openai_routes(httplib::Server& server, ServerContext& ctx);
// POST /v1/messages, /v1/messages/count_tokens
void register_anthropic_routes(httplib::Server& server, ServerContext& ctx);

}  // namespace sluice::api
