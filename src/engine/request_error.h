#pragma once
// A request the engine refuses, typed so that its clients answer it their own way (the HTTP API
// maps the kind to a status in api/api_error.cc): no message is ever parsed back.
#include <optional>
#include <string>
#include <utility>

#include "common/assert.h"

namespace sluice {

enum class RequestErrorKind {
  kInvalidParameter,  // a SamplingParams or EngineRequest field is out of range
  kUnavailable,       // the engine is shutting down
  kInternal,          // the caller broke the contract (a request id already live)
};

struct RequestError {
  RequestErrorKind kind = RequestErrorKind::kInvalidParameter;
  std::string param;    // the field at fault ("top_p", "prompt", "id"); empty: none
  std::string message;  // names the field first: "top_p must be in (0, 1], got 1.5"

  static RequestError invalid(std::string param, std::string message) {
    return {RequestErrorKind::kInvalidParameter, std::move(param), std::move(message)};
  }
  std::string text() const { return "[request] " + message; }  // for logs and the CLI
};

// A value, or the RequestError that refused it.
template <typename T>
class RequestResult {
 public:
  RequestResult(T value) : value_(std::move(value)) {}             // NOLINT: implicit by design
  RequestResult(RequestError error) : error_(std::move(error)) {}  // NOLINT: implicit by design
  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  T& operator*() {
    SLUICE_ASSERT(ok(), error_.message.c_str());
    return *value_;
  }
  T* operator->() { return &**this; }
  const RequestError& request_error() const { return error_; }
  std::string error() const { return error_.text(); }  // as Result<T>::error() reads

 private:
  std::optional<T> value_;
  RequestError error_;
};

}  // namespace sluice
