#include "jinja/operators.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "jinja/builtins.h"
#include "jinja/unicode.h"

namespace sluice::jinja {

namespace {

std::string quoted_type(const Value& v) {
  return "'" + v.type_name() + "'";
}

[[noreturn]] void unsupported(Interpreter& in, const char* op, const Value& l, const Value& r) {
  in.fail("TypeError", std::string("unsupported operand type(s) for ") + op + ": " +
                           quoted_type(l) + " and " + quoted_type(r));
}

template <typename Op>
int64_t checked(Interpreter& in, Op op, int64_t a, int64_t b) {
  int64_t out;
  if (op(a, b, &out)) in.fail("OverflowError", "integer overflow");
  return out;
}
bool add_ovf(int64_t a, int64_t b, int64_t* o) {
  return __builtin_add_overflow(a, b, o);
}
bool sub_ovf(int64_t a, int64_t b, int64_t* o) {
  return __builtin_sub_overflow(a, b, o);
}
bool mul_ovf(int64_t a, int64_t b, int64_t* o) {
  return __builtin_mul_overflow(a, b, o);
}

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t py_mod(int64_t a, int64_t b) {
  int64_t m = a % b;
  if (m != 0 && ((m < 0) != (b < 0))) m += b;
  return m;
}

double py_fmod(double a, double b) {
  double m = std::fmod(a, b);
  if (m != 0 && ((m < 0) != (b < 0))) m += b;
  if (m == 0) m = std::copysign(0.0, b);
  return m;
}

Value repeat(Interpreter& in, const Value& seq, int64_t n) {
  if (n < 0) n = 0;
  size_t unit = seq.is_string() ? seq.str().size() : seq.items().size(), total;
  if (__builtin_mul_overflow(unit, static_cast<size_t>(n), &total) ||
      total > in.limits().max_string_bytes)
    in.fail("MemoryError", "repeated sequence too large");
  if (seq.is_string()) {
    std::string out;
    out.reserve(seq.str().size() * n);
    for (int64_t i = 0; i < n; ++i) out += seq.str();
    return Value(std::move(out), seq.is_safe());
  }
  const auto& items = seq.items();
  std::vector<Value> out;
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), items.begin(), items.end());
  return Value::list(std::move(out), seq.is_tuple());
}

// Normalizes a Python slice over a sequence of length n.
void slice_indices(Interpreter& in, int64_t n, const Value& start, const Value& stop,
                   const Value& step, int64_t* b, int64_t* e, int64_t* st) {
  auto as_index = [&](const Value& v) -> int64_t {
    if (v.is_int() || v.is_bool()) return v.int_like();
    in.fail("TypeError", "slice indices must be integers or None or have an __index__ method");
  };
  *st = step.is_none() ? 1 : as_index(step);
  if (*st == 0) in.fail("ValueError", "slice step cannot be zero");
  auto clamp = [&](const Value& v, int64_t def) -> int64_t {
    if (v.is_none()) return def;
    int64_t i = as_index(v);
    if (i < 0) {
      i += n;
      if (i < 0) i = *st < 0 ? -1 : 0;
    } else if (i >= n) {
      i = *st < 0 ? n - 1 : n;
    }
    return i;
  };
  if (*st > 0) {
    *b = clamp(start, 0);
    *e = clamp(stop, n);
  } else {
    *b = clamp(start, n - 1);
    *e = clamp(stop, -1);
  }
}

}  // namespace

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

Value unary_op(Interpreter& in, bool negate, const Value& v) {
  if (v.is_undefined()) in.fail_undefined(v);
  if (v.is_float()) return Value(negate ? -v.as_float() : v.as_float());
  if (v.is_int() || v.is_bool()) {
    int64_t i = v.int_like();
    if (!negate) return Value(i);
    if (i == INT64_MIN) in.fail("OverflowError", "integer overflow");
    return Value(-i);
  }
  in.fail("TypeError", std::string("bad operand type for unary ") + (negate ? "-" : "+") + ": " +
                           quoted_type(v));
}

Value binary_op(Interpreter& in, BinOp op, const Value& l, const Value& r) {
  if (l.is_undefined()) in.fail_undefined(l);
  if (r.is_undefined()) in.fail_undefined(r);
  const bool nums = l.is_number() && r.is_number();
  const bool floats = nums && (l.is_float() || r.is_float());
  switch (op) {
    case BinOp::kAdd: {
      if (nums) {
        if (floats) return Value(l.to_double() + r.to_double());
        return Value(checked(in, add_ovf, l.int_like(), r.int_like()));
      }
      if (l.is_string() && r.is_string()) {
        in.check_string_size(l.str().size() + r.str().size());
        // Markup + str escapes the plain side (markupsafe semantics).
        if (l.is_safe() && !r.is_safe()) return Value(l.str() + html_escape(r.str()), true);
        if (r.is_safe() && !l.is_safe()) return Value(html_escape(l.str()) + r.str(), true);
        return Value(l.str() + r.str(), l.is_safe());
      }
      if (l.is_list() && r.is_list()) {
        if (l.is_tuple() != r.is_tuple())
          in.fail("TypeError", std::string("can only concatenate ") + l.type_name() + " (not \"" +
                                   r.type_name() + "\") to " + l.type_name());
        std::vector<Value> items = l.items();
        items.insert(items.end(), r.items().begin(), r.items().end());
        return Value::list(std::move(items), l.is_tuple());
      }
      if (l.is_string() || l.is_list())
        in.fail("TypeError", std::string("can only concatenate ") + l.type_name() + " (not \"" +
                                 r.type_name() + "\") to " + l.type_name());
      unsupported(in, "+", l, r);
    }
    case BinOp::kSub: {
      if (!nums) unsupported(in, "-", l, r);
      if (floats) return Value(l.to_double() - r.to_double());
      return Value(checked(in, sub_ovf, l.int_like(), r.int_like()));
    }
    case BinOp::kMul: {
      if (nums) {
        if (floats) return Value(l.to_double() * r.to_double());
        return Value(checked(in, mul_ovf, l.int_like(), r.int_like()));
      }
      if ((l.is_string() || l.is_list()) && (r.is_int() || r.is_bool()))
        return repeat(in, l, r.int_like());
      if ((r.is_string() || r.is_list()) && (l.is_int() || l.is_bool()))
        return repeat(in, r, l.int_like());
      if ((l.is_string() || l.is_list()) || (r.is_string() || r.is_list()))
        in.fail("TypeError", "can't multiply sequence by non-int of type " +
                                 quoted_type((l.is_string() || l.is_list()) ? r : l));
      unsupported(in, "*", l, r);
    }
    case BinOp::kDiv: {
      if (!nums) unsupported(in, "/", l, r);
      if (r.to_double() == 0.0) in.fail("ZeroDivisionError", "division by zero");
      return Value(l.to_double() / r.to_double());
    }
    case BinOp::kFloorDiv: {
      if (!nums) unsupported(in, "//", l, r);
      if (floats) {
        if (r.to_double() == 0.0) in.fail("ZeroDivisionError", "float floor division by zero");
        double a = l.to_double(), b = r.to_double();
        return Value((a - py_fmod(a, b)) / b);
      }
      if (r.int_like() == 0) in.fail("ZeroDivisionError", "integer division or modulo by zero");
      if (l.int_like() == INT64_MIN && r.int_like() == -1)
        in.fail("OverflowError", "integer overflow");
      return Value(floor_div(l.int_like(), r.int_like()));
    }
    case BinOp::kMod: {
      if (l.is_string()) return Value(percent_format(in, l.str(), r));
      if (!nums) unsupported(in, "%", l, r);
      if (floats) {
        if (r.to_double() == 0.0) in.fail("ZeroDivisionError", "float modulo");
        return Value(py_fmod(l.to_double(), r.to_double()));
      }
      if (r.int_like() == 0) in.fail("ZeroDivisionError", "integer division or modulo by zero");
      if (r.int_like() == -1) return Value(int64_t{0});
      return Value(py_mod(l.int_like(), r.int_like()));
    }
    case BinOp::kPow: {
      if (!nums) unsupported(in, "** or pow()", l, r);
      if (!floats && r.int_like() >= 0) {
        int64_t base = l.int_like(), exp = r.int_like(), result = 1;
        while (exp > 0) {
          if (exp & 1) result = checked(in, mul_ovf, result, base);
          exp >>= 1;
          if (exp > 0) base = checked(in, mul_ovf, base, base);
        }
        return Value(result);
      }
      double a = l.to_double(), b = r.to_double();
      if (a == 0.0 && b < 0)
        in.fail("ZeroDivisionError", "0.0 cannot be raised to a negative power");
      return Value(std::pow(a, b));
    }
  }
  return Value();
}

bool py_less(Interpreter& in, const Value& a, const Value& b) {
  if (a.is_undefined()) in.fail_undefined(a);
  if (b.is_undefined()) in.fail_undefined(b);
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.to_double() < b.to_double();
    return a.int_like() < b.int_like();
  }
  if (a.is_string() && b.is_string()) return a.str() < b.str();
  if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
    const auto& x = a.items();
    const auto& y = b.items();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (py_equal(x[i], y[i])) continue;
      return py_less(in, x[i], y[i]);
    }
    return x.size() < y.size();
  }
  in.fail("TypeError",
          "'<' not supported between instances of " + quoted_type(a) + " and " + quoted_type(b));
}

bool compare_op(Interpreter& in, CmpOp op, const Value& l, const Value& r) {
  auto order_error = [&](const char* sym) {
    in.fail("TypeError", std::string("'") + sym + "' not supported between instances of " +
                             quoted_type(l) + " and " + quoted_type(r));
  };
  switch (op) {
    case CmpOp::kEq:
      return py_equal(l, r);
    case CmpOp::kNe:
      return !py_equal(l, r);
    case CmpOp::kIn:
      return contains(in, r, l);
    case CmpOp::kNotIn:
      return !contains(in, r, l);
    default:
      break;
  }
  try {
    switch (op) {
      case CmpOp::kLt:
        return py_less(in, l, r);
      case CmpOp::kGt:
        return py_less(in, r, l);
      case CmpOp::kLe:
        return py_less(in, l, r) || py_equal(l, r);
      case CmpOp::kGe:
        return py_less(in, r, l) || py_equal(l, r);
      default:
        return false;
    }
  } catch (const TemplateError& e) {
    if (e.kind() != "TypeError") throw;
    const char* sym = op == CmpOp::kLt   ? "<"
                      : op == CmpOp::kGt ? ">"
                      : op == CmpOp::kLe ? "<="
                                         : ">=";
    order_error(sym);
  }
  return false;
}

bool contains(Interpreter& in, const Value& container, const Value& item) {
  switch (container.type()) {
    case Value::Type::kString:
      if (!item.is_string())
        in.fail("TypeError",
                "'in <string>' requires string as left operand, not " + item.type_name());
      return container.str().find(item.str()) != std::string::npos;
    case Value::Type::kList:
      for (const auto& v : container.items())
        if (py_equal(v, item)) return true;
      return false;
    case Value::Type::kDict:
      if ((item.is_list() && !item.is_tuple()) || item.is_dict())
        in.fail("TypeError", "unhashable type: " + quoted_type(item));
      return container.dict_ptr()->find(item) != nullptr;
    case Value::Type::kUndefined:
      return false;
    case Value::Type::kIterator:
      for (const auto& v : in.iterate(container))
        if (py_equal(v, item)) return true;
      return false;
    default:
      in.fail("TypeError", "argument of type " + quoted_type(container) + " is not iterable");
  }
}

Value slice_value(Interpreter& in, const Value& obj, const Value& start, const Value& stop,
                  const Value& step) {
  if (obj.is_undefined()) in.fail_undefined(obj);
  if (!obj.is_string() && !obj.is_list())
    return Value::undefined(object_type_repr(obj) + " has no element slice");
  int64_t b, e, st;
  try {
    if (obj.is_string()) {
      const std::string& s = obj.str();
      const bool ascii = is_ascii(s);
      std::u32string cps;
      if (!ascii) cps = utf8_decode(s);
      int64_t n = ascii ? static_cast<int64_t>(s.size()) : static_cast<int64_t>(cps.size());
      slice_indices(in, n, start, stop, step, &b, &e, &st);
      std::string out;
      if (st == 1 && ascii) {
        if (e > b) out = s.substr(b, e - b);
      } else {
        for (int64_t i = b; st > 0 ? i < e : i > e; i += st) {
          if (ascii)
            out.push_back(s[i]);
          else
            utf8_append(cps[i], out);
        }
      }
      return Value(std::move(out), obj.is_safe());
    }
    const auto& items = obj.items();
    slice_indices(in, static_cast<int64_t>(items.size()), start, stop, step, &b, &e, &st);
    std::vector<Value> out;
    for (int64_t i = b; st > 0 ? i < e : i > e; i += st) out.push_back(items[i]);
    return Value::list(std::move(out), obj.is_tuple());
  } catch (const TemplateError& err) {
    if (err.kind() == "TypeError")
      return Value::undefined(object_type_repr(obj) + " has no element slice");
    throw;
  }
}

// ---- attribute and item access (jinja2's sandboxed getattr / getitem) ----

Value Interpreter::loop_attr(const LoopPtr& loop, const std::string& name) {
  const int64_t i = loop->index0, n = loop->length;
  if (name == "index0") return Value(i);
  if (name == "index") return Value(i + 1);
  if (name == "revindex") return Value(n - i);
  if (name == "revindex0") return Value(n - i - 1);
  if (name == "first") return Value(i == 0);
  if (name == "last") return Value(i == n - 1);
  if (name == "length") return Value(n);
  if (name == "depth") return Value(loop->depth0 + 1);
  if (name == "depth0") return Value(loop->depth0);
  if (name == "previtem")
    return i > 0 ? (*loop->items)[i - 1] : Value::undefined("there is no previous item");
  if (name == "nextitem")
    return i + 1 < n ? (*loop->items)[i + 1] : Value::undefined("there is no next item");
  if (name == "cycle" || name == "changed") {
    auto fn = std::make_shared<Callable>();
    fn->name = name;
    fn->kind = Callable::Kind::kMethod;
    LoopPtr l = loop;
    if (name == "cycle") {
      fn->fn = [l](Interpreter& in, CallArgs& args) -> Value {
        if (args.pos.empty()) in.fail("TypeError", "no items for cycling given");
        return args.pos[static_cast<size_t>(l->index0) % args.pos.size()];
      };
    } else {
      fn->fn = [l](Interpreter&, CallArgs& args) -> Value {
        Value v = Value::list(args.pos, true);
        if (l->last_changed && py_equal(*l->last_changed, v)) return Value(false);
        l->last_changed = v;
        return Value(true);
      };
    }
    return Value(CallablePtr(std::move(fn)));
  }
  return Value::undefined("'jinja2.runtime.LoopContext object' has no attribute '" + name + "'");
}

Value Interpreter::getattr(const Value& obj, const std::string& name) {
  switch (obj.type()) {
    case Value::Type::kUndefined:
      fail_undefined(obj);
    case Value::Type::kDict: {
      Value m;
      if (find_method(obj, name, &m)) return m;
      if (const Value* v = obj.dict_ptr()->find_str(name)) return *v;
      break;
    }
    case Value::Type::kNamespace:
      if (const Value* v = obj.ns()->find(name)) return *v;
      break;
    case Value::Type::kLoop:
      return loop_attr(obj.loop(), name);
    default: {
      Value m;
      if (find_method(obj, name, &m)) return m;
      break;
    }
  }
  if (!name.empty() && name[0] == '_' && !obj.is_dict())
    return Value::undefined(
        "access to attribute '" + name + "' of '" + obj.type_name() + "' object is unsafe.", true);
  return Value::undefined("'" + object_type_repr(obj) + "' has no attribute '" + name + "'");
}

Value Interpreter::getitem(const Value& obj, const Value& key) {
  switch (obj.type()) {
    case Value::Type::kUndefined:
      fail_undefined(obj);
    case Value::Type::kList:
    case Value::Type::kString:
      if (key.is_int() || key.is_bool()) {
        int64_t i = key.int_like();
        if (obj.is_list()) {
          const auto& items = obj.items();
          int64_t n = static_cast<int64_t>(items.size());
          if (i < 0) i += n;
          if (i >= 0 && i < n) return items[i];
        } else {
          const std::string& s = obj.str();
          if (is_ascii(s)) {
            int64_t n = static_cast<int64_t>(s.size());
            if (i < 0) i += n;
            if (i >= 0 && i < n) return Value(std::string(1, s[i]), obj.is_safe());
          } else {
            std::u32string cps = utf8_decode(s);
            int64_t n = static_cast<int64_t>(cps.size());
            if (i < 0) i += n;
            if (i >= 0 && i < n) {
              std::string out;
              utf8_append(cps[i], out);
              return Value(std::move(out), obj.is_safe());
            }
          }
        }
        return Value::undefined(object_type_repr(obj) + " has no element " + py_repr(key));
      }
      break;
    case Value::Type::kDict:
      if (const Value* v = obj.dict_ptr()->find(key)) return *v;
      break;
    case Value::Type::kLoop:
      break;
    default:
      break;
  }
  if (key.is_string()) {
    if (obj.is_dict() || obj.is_namespace() || obj.is_list() || obj.is_string() || obj.is_loop() ||
        obj.is_number()) {
      Value m;
      if (obj.is_namespace()) {
        if (const Value* v = obj.ns()->find(key.str())) return *v;
      } else if (obj.is_loop()) {
        return loop_attr(obj.loop(), key.str());
      } else if (find_method(obj, key.str(), &m)) {
        return m;
      }
    }
    return Value::undefined("'" + object_type_repr(obj) + "' has no attribute '" + key.str() + "'");
  }
  return Value::undefined(object_type_repr(obj) + " has no element " + py_repr(key));
}

std::vector<Value> Interpreter::iterate(const Value& v) {
  switch (v.type()) {
    case Value::Type::kList:
      return v.items();
    case Value::Type::kDict: {
      std::vector<Value> keys;
      keys.reserve(v.dict_ptr()->entries.size());
      for (const auto& [k, val] : v.dict_ptr()->entries) keys.push_back(k);
      return keys;
    }
    case Value::Type::kString: {
      std::vector<Value> chars;
      const std::string& s = v.str();
      if (is_ascii(s)) {
        for (char c : s) chars.emplace_back(std::string(1, c), v.is_safe());
      } else {
        for (char32_t c : utf8_decode(s)) {
          std::string one;
          utf8_append(c, one);
          chars.emplace_back(std::move(one), v.is_safe());
        }
      }
      return chars;
    }
    case Value::Type::kUndefined:
      return {};
    case Value::Type::kIterator: {
      const IterPtr& it = v.iter();
      if (it->consumed) return {};
      it->consumed = true;
      return it->items;
    }
    default:
      fail("TypeError", "'" + v.type_name() + "' object is not iterable");
  }
}

// ---- string helpers ----

std::vector<std::string> py_split(const std::string& s, const Value& sep, int64_t maxsplit,
                                  bool from_right) {
  std::vector<std::string> out;
  if (sep.is_none() || sep.is_undefined()) {
    std::u32string cps = utf8_decode(s);
    int64_t n = static_cast<int64_t>(cps.size());
    if (!from_right) {
      int64_t i = 0;
      while (true) {
        while (i < n && py_isspace(cps[i])) ++i;
        if (i >= n) break;
        if (maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit) {
          int64_t end = n;
          while (end > i && py_isspace(cps[end - 1])) --end;
          out.push_back(utf8_encode(cps.substr(i, end - i)));
          break;
        }
        int64_t j = i;
        while (j < n && !py_isspace(cps[j])) ++j;
        out.push_back(utf8_encode(cps.substr(i, j - i)));
        i = j;
      }
    } else {
      int64_t i = n;
      while (true) {
        while (i > 0 && py_isspace(cps[i - 1])) --i;
        if (i <= 0) break;
        if (maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit) {
          int64_t b = 0;
          while (b < i && py_isspace(cps[b])) ++b;
          out.push_back(utf8_encode(cps.substr(b, i - b)));
          break;
        }
        int64_t j = i;
        while (j > 0 && !py_isspace(cps[j - 1])) --j;
        out.push_back(utf8_encode(cps.substr(j, i - j)));
        i = j;
      }
      std::reverse(out.begin(), out.end());
    }
    return out;
  }
  const std::string& d = sep.str();
  if (!from_right) {
    size_t pos = 0;
    while (true) {
      if (maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit) break;
      size_t f = s.find(d, pos);
      if (f == std::string::npos) break;
      out.push_back(s.substr(pos, f - pos));
      pos = f + d.size();
    }
    out.push_back(s.substr(pos));
  } else {
    size_t end = s.size();
    while (true) {
      if (maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit) break;
      if (end < d.size()) break;
      size_t f = s.rfind(d, end - d.size());
      if (f == std::string::npos) break;
      out.push_back(s.substr(f + d.size(), end - f - d.size()));
      end = f;
    }
    out.push_back(s.substr(0, end));
    std::reverse(out.begin(), out.end());
  }
  return out;
}

std::string py_strip(const std::string& s, const Value& chars, bool left, bool right) {
  const bool ws = chars.is_none() || chars.is_undefined();
  if (ws && is_ascii(s)) {
    size_t b = 0, e = s.size();
    if (left)
      while (b < e && py_isspace(static_cast<unsigned char>(s[b]))) ++b;
    if (right)
      while (e > b && py_isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return s.substr(b, e - b);
  }
  std::u32string cps = utf8_decode(s);
  std::u32string set = ws ? std::u32string() : utf8_decode(chars.str());
  auto strip_it = [&](char32_t c) {
    return ws ? py_isspace(c) : set.find(c) != std::u32string::npos;
  };
  size_t b = 0, e = cps.size();
  if (left)
    while (b < e && strip_it(cps[b])) ++b;
  if (right)
    while (e > b && strip_it(cps[e - 1])) --e;
  return utf8_encode(cps.substr(b, e - b));
}

std::string percent_format(Interpreter& in, const std::string& fmt, const Value& args) {
  std::vector<Value> list;
  bool is_map = args.is_dict();
  if (args.is_tuple())
    list = args.items();
  else
    list.push_back(args);
  size_t next = 0;
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out.push_back(fmt[i]);
      continue;
    }
    if (++i >= fmt.size()) in.fail("ValueError", "incomplete format");
    Value arg;
    bool have_arg = false;
    if (fmt[i] == '(') {
      size_t close = fmt.find(')', i);
      if (close == std::string::npos) in.fail("ValueError", "incomplete format key");
      if (!is_map) in.fail("TypeError", "format requires a mapping");
      const Value* v = args.dict_ptr()->find_str(fmt.substr(i + 1, close - i - 1));
      if (!v) in.fail("KeyError", fmt.substr(i + 1, close - i - 1));
      arg = *v;
      have_arg = true;
      i = close + 1;
    }
    std::string spec = "%";
    while (i < fmt.size() && std::string("-+ #0").find(fmt[i]) != std::string::npos)
      spec.push_back(fmt[i++]);
    while (i < fmt.size() && (std::isdigit(static_cast<unsigned char>(fmt[i])) || fmt[i] == '.'))
      spec.push_back(fmt[i++]);
    if (i >= fmt.size()) in.fail("ValueError", "incomplete format");
    char conv = fmt[i];
    if (conv == '%') {
      out.push_back('%');
      continue;
    }
    if (!have_arg) {
      if (is_map && list.size() == 1) {
        arg = args;
      } else {
        if (next >= list.size()) in.fail("TypeError", "not enough arguments for format string");
        arg = list[next++];
      }
    }
    char buf[512];
    switch (conv) {
      case 's':
      case 'r':
      case 'a': {
        std::string s = conv == 's' ? py_str(arg) : py_repr(arg);
        std::string f = spec + "s";
        if (spec.size() > 1) {
          std::snprintf(buf, sizeof(buf), f.c_str(), s.c_str());
          out += buf;
        } else {
          out += s;
        }
        break;
      }
      case 'd':
      case 'i':
      case 'u':
      case 'x':
      case 'X':
      case 'o': {
        if (!arg.is_number()) in.fail("TypeError", "%d format: a real number is required");
        long long v = arg.is_float() ? static_cast<long long>(arg.as_float()) : arg.int_like();
        std::string f = spec + "ll" + (conv == 'i' || conv == 'u' ? 'd' : conv);
        std::snprintf(buf, sizeof(buf), f.c_str(), v);
        out += buf;
        break;
      }
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G': {
        if (!arg.is_number()) in.fail("TypeError", "must be real number, not " + arg.type_name());
        std::string f = spec + conv;
        std::snprintf(buf, sizeof(buf), f.c_str(), arg.to_double());
        out += buf;
        break;
      }
      default:
        in.fail("ValueError", std::string("unsupported format character '") + conv + "'");
    }
  }
  if (!is_map && next < list.size() && args.is_tuple())
    in.fail("TypeError", "not all arguments converted during string formatting");
  if (!is_map && !args.is_tuple() && next == 0)
    in.fail("TypeError", "not all arguments converted during string formatting");
  return out;
}

}  // namespace sluice::jinja
