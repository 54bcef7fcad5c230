#include "api/http/http_util.h"

#include <httplib.h>

#include <cstdio>

#include "api/http/client_socket.h"
#include "common/json_parse.h"
#include "common/json_shape.h"

namespace sluice::api {

std::string sse_data(const Json& j) {
  return "data: " + dump(j) + "\n\n";
}

std::string sse_event(const std::string& name, const Json& j) {
  return "event: " + name + "\ndata: " + dump(j) + "\n\n";
}

void set_json(httplib::Response& res, const Json& body, int status) {
  res.status = status;
  res.set_content(dump(body), "application/json");
}

void set_error(httplib::Response& res, const ApiError& e, Protocol protocol) {
  res.status = e.status();
  res.set_content(error_body(e, protocol), "application/json");
}

Json parse_body(const httplib::Request& req) {
  if (auto error = json_shape_error(req.body))
    throw invalid("the request body is refused: " + *error);
  // Bodies of pictures as base64 through simdjson; what it refuses, nlohmann parses (or names).
  constexpr size_t kLargeBody = 64 << 10;
  std::optional<Json> fast;
  if (req.body.size() >= kLargeBody) fast = parse_json_simd(req.body);
  Json body;
  try {
    body = fast ? std::move(*fast) : Json::parse(req.body);
  } catch (const nlohmann::json::parse_error& e) {
    throw invalid(std::string("the request body is not valid JSON: ") + e.what());
  }
  if (!body.is_object()) throw invalid("the request body must be a JSON object");
  return body;
}

void answer_errors(httplib::Response& res, Protocol protocol, const std::string& route,
                   const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ApiError& e) {
    set_error(res, e, protocol);
  } catch (const nlohmann::json::exception& e) {  // a field of the wrong type slipped through
    set_error(res, invalid(std::string("invalid request: ") + e.what()), protocol);
  } catch (const std::bad_alloc&) {
    set_error(res, invalid("the request needs more memory than the server has"), protocol);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sluice: internal error on %s: %s\n", route.c_str(), e.what());
    set_error(res, ApiError(ErrorKind::kInternal, std::string("internal error: ") + e.what()),
              protocol);
  }
}

void handle(httplib::Response& res, Protocol protocol, const std::string& route,
            const std::function<void()>& fn) {
  current_request().route = route;
  answer_errors(res, protocol, route, fn);
}

}  // namespace sluice::api
