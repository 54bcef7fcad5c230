#include "api/api_error.h"

#include "api/json_fields.h"

namespace sluice::api {

int ApiError::status() const {
  switch (kind_) {
    case ErrorKind::kInvalidRequest:
      return 400;
    case ErrorKind::kAuthentication:
      return 401;
    case ErrorKind::kNotFound:
    case ErrorKind::kModelNotFound:
      return 404;
    case ErrorKind::kMethodNotAllowed:
      return 405;
    case ErrorKind::kPayloadTooLarge:
      return 413;
    case ErrorKind::kQueueFull:
      return 429;
    case ErrorKind::kClientClosed:
      return 499;
    case ErrorKind::kInternal:
      return 500;
    case ErrorKind::kUnavailable:
      return 503;
  }
  return 500;
}

ApiError engine_error(const RequestError& e, const std::string& param) {
  switch (e.kind) {
    case RequestErrorKind::kInvalidParameter:
      return ApiError(ErrorKind::kInvalidRequest, e.message, param);
    case RequestErrorKind::kUnavailable:
      return ApiError(ErrorKind::kUnavailable, e.message, param);
    case RequestErrorKind::kInternal:
      break;
  }
  return ApiError(ErrorKind::kInternal, e.message, param);
}

namespace {

// (OpenAI type, OpenAI code, Anthropic type) per kind.
struct Shape {
  const char* openai_type;
  const char* openai_code;
  const char* anthropic_type;
};

Shape shape_of(ErrorKind k) {
  switch (k) {
    case ErrorKind::kInvalidRequest:
      return {"invalid_request_error", nullptr, "invalid_request_error"};
    case ErrorKind::kAuthentication:
      return {"authentication_error", "invalid_api_key", "authentication_error"};
    case ErrorKind::kNotFound:
      return {"not_found_error", "not_found", "not_found_error"};
    case ErrorKind::kModelNotFound:
      return {"invalid_request_error", "model_not_found", "not_found_error"};
    case ErrorKind::kMethodNotAllowed:
      return {"invalid_request_error", "method_not_allowed", "invalid_request_error"};
    case ErrorKind::kPayloadTooLarge:
      return {"invalid_request_error", "request_too_large", "request_too_large"};
    case ErrorKind::kQueueFull:
      return {"rate_limit_error", "rate_limit_exceeded", "rate_limit_error"};
    case ErrorKind::kClientClosed:
      return {"invalid_request_error", "client_closed_request", "invalid_request_error"};
    case ErrorKind::kInternal:
      return {"server_error", "internal_error", "api_error"};
    case ErrorKind::kUnavailable:
      return {"service_unavailable_error", "service_unavailable", "overloaded_error"};
  }
  return {"server_error", nullptr, "api_error"};
}

}  // namespace

std::string error_body(const ApiError& e, Protocol protocol) {
  const Shape s = shape_of(e.kind());
  Json body;
  if (protocol == Protocol::kAnthropic) {
    body["type"] = "error";
    body["error"] = {{"type", s.anthropic_type}, {"message", e.what()}};
  } else {
    body["error"] = {{"message", e.what()},
                     {"type", s.openai_type},
                     {"param", e.param().empty() ? Json(nullptr) : Json(e.param())},
                     {"code", s.openai_code ? Json(s.openai_code) : Json(nullptr)}};
  }
  return dump(body);  // invalid UTF-8 echoed from the request must not throw
}

}  // namespace sluice::api
