#pragma once
// Errors inside the interpreter travel as a C++ exception and become a Status at the public API
// (Template::parse / render), so the evaluator's hot path stays free of error plumbing.
#include <stdexcept>
#include <string>

namespace sluice::jinja {

class TemplateError : public std::runtime_error {
 public:
  // kind: "TemplateSyntaxError", "UndefinedError", "TypeError", ... (as jinja2/Python name them)
  TemplateError(std::string kind, const std::string& message, int line = 0)
      : std::runtime_error(message), kind_(std::move(kind)), line_(line) {}
  const std::string& kind() const { return kind_; }
  int line() const { return line_; }
  void set_line(int line) {
    if (line_ == 0) line_ = line;
  }

 private:
  std::string kind_;
  int line_;
};

[[noreturn]] inline void throw_error(const std::string& kind, const std::string& message,
                                     int line = 0) {
  throw TemplateError(kind, message, line);
}

}  // namespace sluice::jinja
