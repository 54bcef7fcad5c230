#pragma once
// The ONE place request errors are typed and shaped: an ApiError carries the HTTP status and is
// rendered as an OpenAI body {"error":{message,type,param,code}} or an Anthropic body
// {"type":"error","error":{type,message}}. Handlers throw it; the server catches and renders it.
#include <stdexcept>
#include <string>

#include "engine/request_error.h"

namespace sluice::api {

enum class Protocol { kOpenAI, kAnthropic };

enum class ErrorKind {
  kInvalidRequest,    // 400
  kAuthentication,    // 401
  kNotFound,          // 404 (route)
  kModelNotFound,     // 404
  kMethodNotAllowed,  // 405
  kPayloadTooLarge,   // 413
  kQueueFull,         // 429
  kClientClosed,      // 499 (the client went away before the answer; nginx's code)
  kInternal,          // 500 (a bug: never for bad input)
  kUnavailable,       // 503 (model loading, shutting down)
};

class ApiError : public std::runtime_error {
 public:
  ApiError(ErrorKind kind, const std::string& message, std::string param = "")
      : std::runtime_error(message), kind_(kind), param_(std::move(param)) {}
  ErrorKind kind() const { return kind_; }
  const std::string& param() const { return param_; }
  int status() const;

 private:
  ErrorKind kind_;
  std::string param_;
};

// 400 naming the parameter: invalid("temperature must be >= 0", "temperature").
inline ApiError invalid(const std::string& message, const std::string& param = "") {
  return ApiError(ErrorKind::kInvalidRequest, message, param);
}

// A request the engine refused: kInvalidParameter -> 400, kUnavailable -> 503, kInternal -> 500.
// `param` names the request field the engine's RequestError::param stands for.
ApiError engine_error(const RequestError& e, const std::string& param);
inline ApiError engine_error(const RequestError& e) {
  return engine_error(e, e.param);
}

std::string error_body(const ApiError& e, Protocol protocol);

}  // namespace sluice::api
