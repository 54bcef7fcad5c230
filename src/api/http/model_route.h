#pragma once
// Routes that run on a model (chat, completions, messages, responses, embeddings, rerank,
// tokenize): the request's "model" field picks the registry's model, loading it on first use.
// A streamed request whose model is still loading gets its SSE stream at once, with a comment
// line each second until the model is up (clients see the wait); others wait up to
// --load-timeout.
#include <functional>
#include <string>

#include "api/json_fields.h"
#include "api/model_context.h"

namespace httplib {
struct Request;
struct Response;
class Server;
}  // namespace httplib

namespace sluice::api {

// A route on its model, with the request body parsed once (a JSON object).
using ModelHandler =
    std::function<void(ModelContext& ctx, const Json& body, httplib::Response& res)>;

// Resolves, leases and runs `fn` on the request's model; errors answered as handle() does.
void handle_model(ServerState& server, const httplib::Request& req, httplib::Response& res,
                  Protocol protocol, const std::string& route, const ModelHandler& fn);
// server.Post(route, ...) with handle_model.
void post_model_route(httplib::Server& http, ServerState& server, const std::string& route,
                      Protocol protocol, ModelHandler fn);

}  // namespace sluice::api
