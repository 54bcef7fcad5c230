// jinja2's builtin tests ("x is defined", "x is divisibleby 3", ...), with Python semantics.
#include <unordered_map>

#include "jinja/builtins.h"
#include "jinja/interpreter.h"
#include "jinja/operators.h"
#include "jinja/unicode.h"

namespace sluice::jinja {

namespace {

const Value& arg0(Interpreter& in, CallArgs& a, const char* test) {
  if (a.pos.empty() && a.kw.empty())
    in.fail("TypeError", std::string(test) + "() missing 1 required positional argument");
  if (a.pos.empty()) return a.kw[0].second;
  return a.pos[0];
}

void no_args(Interpreter& in, CallArgs& a, const char* test) {
  if (!a.pos.empty() || !a.kw.empty())
    in.fail("TypeError", std::string(test) + "() takes 1 positional argument but " +
                             std::to_string(1 + a.pos.size() + a.kw.size()) + " were given");
}

bool t_defined(Interpreter& in, const Value& v, CallArgs& a) {
  no_args(in, a, "defined");
  return !v.is_undefined();
}
bool t_undefined(Interpreter& in, const Value& v, CallArgs& a) {
  no_args(in, a, "undefined");
  return v.is_undefined();
}
bool t_none(Interpreter& in, const Value& v, CallArgs& a) {
  no_args(in, a, "none");
  return v.is_none();
}
bool t_boolean(Interpreter& in, const Value& v, CallArgs& a) {
  no_args(in, a, "boolean");
  return v.is_bool();
}
bool t_false(Interpreter& in, const Value& v, CallArgs& a) {
  no_args(in, a, "false");
  return v.is_bool() && !v.as_bool();
}
bool t_true(Interpreter& in, const Value& v, CallArgs& a) {
  no_args(in, a, "true");
  return v.is_bool() && v.as_bool();
}
bool t_integer(Interpreter& in, const Value& v, CallArgs& a) {
  no_args(in, a, "integer");
  return v.is_int();
}
bool t_float(Interpreter& in, const Value& v, CallArgs& a) {
  no_args(in, a, "float");
  return v.is_float();
}
bool t_number(Interpreter& in, const Value& v, CallArgs& a) {
  no_args(in, a, "number");
  return v.is_number();
}
bool t_string(Interpreter& in, const Value& v, CallArgs& a) {
  no_args(in, a, "string");
  return v.is_string();
}
bool t_mapping(Interpreter& in, const Value& v, CallArgs& a) {
  no_args(in, a, "mapping");
  return v.is_dict();
}
bool t_iterable(Interpreter& in, const Value& v, CallArgs& a) {
  no_args(in, a, "iterable");
  return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined() || v.is_iterator() ||
         v.is_loop();
}
bool t_sequence(Interpreter& in, const Value& v, CallArgs& a) {
  no_args(in, a, "sequence");
  return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined();
}
bool t_callable(Interpreter& in, const Value& v, CallArgs& a) {
  no_args(in, a, "callable");
  return v.is_callable() || v.is_undefined() || v.is_loop();
}
bool t_escaped(Interpreter& in, const Value& v, CallArgs& a) {
  no_args(in, a, "escaped");
  return v.is_safe();
}
bool t_lower(Interpreter& in, const Value& v, CallArgs& a) {
  no_args(in, a, "lower");
  bool cased = false;
  for (char32_t c : utf8_decode(py_str(v))) {
    if (py_isupper(c)) return false;
    if (py_islower(c)) cased = true;
  }
  return cased;
}
bool t_upper(Interpreter& in, const Value& v, CallArgs& a) {
  no_args(in, a, "upper");
  bool cased = false;
  for (char32_t c : utf8_decode(py_str(v))) {
    if (py_islower(c)) return false;
    if (py_isupper(c)) cased = true;
  }
  return cased;
}

int64_t int_mod(Interpreter& in, const Value& v, const Value& m) {
  Value r = binary_op(in, BinOp::kMod, v, m);
  return r.is_float() ? (r.as_float() == 0 ? 0 : 1) : r.int_like();
}

bool t_odd(Interpreter& in, const Value& v, CallArgs& a) {
  no_args(in, a, "odd");
  return int_mod(in, v, Value(int64_t{2})) == 1;
}
bool t_even(Interpreter& in, const Value& v, CallArgs& a) {
  no_args(in, a, "even");
  return int_mod(in, v, Value(int64_t{2})) == 0;
}
bool t_divisibleby(Interpreter& in, const Value& v, CallArgs& a) {
  return int_mod(in, v, arg0(in, a, "divisibleby")) == 0;
}
bool t_eq(Interpreter& in, const Value& v, CallArgs& a) {
  return py_equal(v, arg0(in, a, "eq"));
}
bool t_ne(Interpreter& in, const Value& v, CallArgs& a) {
  return !py_equal(v, arg0(in, a, "ne"));
}
bool t_lt(Interpreter& in, const Value& v, CallArgs& a) {
  return compare_op(in, CmpOp::kLt, v, arg0(in, a, "lt"));
}
bool t_le(Interpreter& in, const Value& v, CallArgs& a) {
  return compare_op(in, CmpOp::kLe, v, arg0(in, a, "le"));
}
bool t_gt(Interpreter& in, const Value& v, CallArgs& a) {
  return compare_op(in, CmpOp::kGt, v, arg0(in, a, "gt"));
}
bool t_ge(Interpreter& in, const Value& v, CallArgs& a) {
  return compare_op(in, CmpOp::kGe, v, arg0(in, a, "ge"));
}
bool t_in(Interpreter& in, const Value& v, CallArgs& a) {
  return contains(in, arg0(in, a, "in"), v);
}
bool t_sameas(Interpreter& in, const Value& v, CallArgs& a) {
  const Value& o = arg0(in, a, "sameas");
  if (v.type() != o.type()) return false;
  if (v.is_none() || v.is_undefined()) return v.is_none();
  if (v.is_bool() || v.is_int() || v.is_string()) return py_equal(v, o);
  if (v.is_float()) return false;
  return py_equal(v, o);
}
bool t_filter(Interpreter& in, const Value& v, CallArgs& a) {
  no_args(in, a, "filter");
  return v.is_string() && find_filter(v.str()) != nullptr;
}
bool t_test(Interpreter& in, const Value& v, CallArgs& a) {
  no_args(in, a, "test");
  return v.is_string() && find_test(v.str()) != nullptr;
}

const std::unordered_map<std::string_view, TestFn>& test_table() {
  static const std::unordered_map<std::string_view, TestFn> table = {
      {"boolean", t_boolean},
      {"callable", t_callable},
      {"defined", t_defined},
      {"divisibleby", t_divisibleby},
      {"eq", t_eq},
      {"equalto", t_eq},
      {"==", t_eq},
      {"escaped", t_escaped},
      {"even", t_even},
      {"false", t_false},
      {"filter", t_filter},
      {"float", t_float},
      {"ge", t_ge},
      {">=", t_ge},
      {"gt", t_gt},
      {">", t_gt},
      {"greaterthan", t_gt},
      {"in", t_in},
      {"integer", t_integer},
      {"iterable", t_iterable},
      {"le", t_le},
      {"<=", t_le},
      {"lower", t_lower},
      {"lt", t_lt},
      {"<", t_lt},
      {"lessthan", t_lt},
      {"mapping", t_mapping},
      {"ne", t_ne},
      {"!=", t_ne},
      {"none", t_none},
      {"number", t_number},
      {"odd", t_odd},
      {"sameas", t_sameas},
      {"sequence", t_sequence},
      {"string", t_string},
      {"test", t_test},
      {"true", t_true},
      {"undefined", t_undefined},
      {"upper", t_upper},
  };
  return table;
}

}  // namespace

TestFn find_test(std::string_view name) {
  const auto& t = test_table();
  auto it = t.find(name);
  return it == t.end() ? nullptr : it->second;
}

}  // namespace sluice::jinja
