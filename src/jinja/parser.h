#pragma once
// Recursive-descent parser: tokens -> syntax tree, following jinja2's grammar and precedence.
#include <string>

#include "jinja/ast.h"

namespace sluice::jinja {

// Throws TemplateError("TemplateSyntaxError" / "TemplateAssertionError") with the line.
Body parse_template(const std::string& source);

}  // namespace sluice::jinja
