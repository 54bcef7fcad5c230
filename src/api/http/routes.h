#pragma once
// Route groups; each registers its endpoints on the server.
#include "api/server_state.h"

namespace httplib {
class Server;
}

namespace sluice::api {

// GET /health, /v1/models, /metrics
void register_misc_routes(httplib::Server& http, ServerState& server);
// GET /v1/models/{id}, matched by prefix before httplib's routing (whose std::regex match of
// "(.+)" recurses once per character of the path). True when it answered.
bool route_model_card(ServerState& server, const httplib::Request& req, httplib::Response& res);
// POST /v1/chat/completions, /v1/completions, /tokenize, /detokenize
void register_openai_routes(httplib::Server& http, ServerState& server);
// POST /v1/embeddings
void register_embeddings_routes(httplib::Server& http, ServerState& server);
// POST /v1/rerank, /rerank, /v2/rerank (cross-encoders)
void register_rerank_routes(httplib::Server& http, ServerState& server);
// POST /v1/messages, /v1/messages/count_tokens
void register_anthropic_routes(httplib::Server& http, ServerState& server);

// GET / (the chat page) and its scripts and style sheet (src/api/web/)
void register_web_routes(httplib::Server& server);
// True for the chat page's paths: they hold no data, so they need no API key.
bool is_web_page_path(const std::string& path);

// POST /v1/responses, /v1/responses/input_tokens
void register_responses_routes(httplib::Server& http, ServerState& server);
// GET and DELETE /v1/responses/{id}, matched by prefix as route_model_card is. True when it
// answered.
bool route_stored_response(ServerState& server, const httplib::Request& req,
                           httplib::Response& res);

}  // namespace sluice::api
