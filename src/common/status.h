#pragma once
// Status / Result<T>: the error tier for load and parse failures. Messages read "[where] what".
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "common/assert.h"

namespace sluice {

class Status {
 public:
  static Status ok() { return Status(); }
  // error("gguf", "truncated file") -> "[gguf] truncated file"
  static Status error(const std::string& where, const std::string& what) {
    Status s;
    s.message_ = "[" + where + "] " + what;
    s.failed_ = true;
    return s;
  }
  bool is_ok() const { return !failed_; }
  explicit operator bool() const { return !failed_; }
  const std::string& message() const { return message_; }

 private:
  bool failed_ = false;
  std::string message_;
};

template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Status error) : error_(std::move(error)) {  // NOLINT: implicit by design
    SLUICE_ASSERT(!error_.is_ok(), "Result built from an ok Status");
  }
  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  T& value() {
    SLUICE_ASSERT(ok(), error_.message().c_str());
    return *value_;
  }
  const T& value() const {
    SLUICE_ASSERT(ok(), error_.message().c_str());
    return *value_;
  }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Status& status() const { return error_; }
  const std::string& error() const { return error_.message(); }

 private:
  std::optional<T> value_;
  Status error_;
};

}  // namespace sluice

// Propagate a failed Status or Result out of the current function.
#define SLUICE_CONCAT_INNER(a, b) a##b
#define SLUICE_CONCAT(a, b) SLUICE_CONCAT_INNER(a, b)
#define SLUICE_RETURN_IF_ERROR(expr)                                         \
  do {                                                                       \
    auto&& sluice_status_ = (expr);                                          \
    if (!sluice_status_) return ::sluice::detail::status_of(sluice_status_); \
  } while (0)
// SLUICE_ASSIGN_OR_RETURN(auto x, make_x());
#define SLUICE_ASSIGN_OR_RETURN(lhs, expr)                   \
  auto SLUICE_CONCAT(sluice_result_, __LINE__) = (expr);     \
  if (!SLUICE_CONCAT(sluice_result_, __LINE__))              \
    return SLUICE_CONCAT(sluice_result_, __LINE__).status(); \
  lhs = std::move(SLUICE_CONCAT(sluice_result_, __LINE__).value())

namespace sluice::detail {
inline Status status_of(const Status& s) {
  return s;
}
template <typename T>
Status status_of(const Result<T>& r) {
  return r.status();
}
}  // namespace sluice::detail
