#pragma once
// Handler plumbing shared by the route files: error rendering in one place, JSON bodies, SSE.
#include <functional>
#include <string>

#include "api/api_error.h"
#include "api/json_fields.h"
#include "api/server_state.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace sluice::api {

// Runs `fn`; an ApiError (or a JSON type error) becomes the protocol's error body with its
// status; anything else becomes a 500 (a bug).
void answer_errors(httplib::Response& res, Protocol protocol, const std::string& route,
                   const std::function<void()>& fn);
// answer_errors() for a route that uses no model; labels the request's record (client_socket.h).
void handle(httplib::Response& res, Protocol protocol, const std::string& route,
            const std::function<void()>& fn);
void set_error(httplib::Response& res, const ApiError& e, Protocol protocol);
// The body as a JSON object (400 naming the parse error otherwise).
Json parse_body(const httplib::Request& req);
void set_json(httplib::Response& res, const Json& body, int status = 200);
// "data: <json>\n\n"
std::string sse_data(const Json& j);
// "event: <name>\ndata: <json>\n\n"
std::string sse_event(const std::string& name, const Json& j);

}  // namespace sluice::api
