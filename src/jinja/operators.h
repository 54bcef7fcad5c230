#pragma once
// Python semantics of Jinja's operators: arithmetic, comparison, membership, slicing.
#include "jinja/ast.h"
#include "jinja/interpreter.h"

namespace sluice::jinja {

Value unary_op(Interpreter& in, bool negate, const Value& v);
Value binary_op(Interpreter& in, BinOp op, const Value& l, const Value& r);
bool compare_op(Interpreter& in, CmpOp op, const Value& l, const Value& r);
// Python's a < b (TypeError for unorderable types).
bool py_less(Interpreter& in, const Value& a, const Value& b);
bool contains(Interpreter& in, const Value& container, const Value& item);
Value slice_value(Interpreter& in, const Value& obj, const Value& start, const Value& stop,
                  const Value& step);
// Python "%" string formatting (printf-style), as `"%s" % x` and the `format` filter use it.
std::string percent_format(Interpreter& in, const std::string& fmt, const Value& args);
// HTML escaping as markupsafe.escape does it.
std::string html_escape(const std::string& s);
// Python str.split / strip helpers on code points.
std::vector<std::string> py_split(const std::string& s, const Value& sep, int64_t maxsplit,
                                  bool from_right);
std::string py_strip(const std::string& s, const Value& chars, bool left, bool right);

}  // namespace sluice::jinja
