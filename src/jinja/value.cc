#include "jinja/value.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "jinja/interpreter.h"
#include "jinja/unicode.h"

namespace sluice::jinja {

const Value* DictData::find(const Value& key) const {
  if (key.is_string()) return find_str(key.str());
  for (const auto& [k, v] : entries)
    if (py_equal(k, key)) return &v;
  return nullptr;
}

const Value* DictData::find_str(std::string_view key) const {
  for (const auto& [k, v] : entries)
    if (k.is_string() && k.str() == key) return &v;
  return nullptr;
}

void DictData::set(Value key, Value value) {
  for (auto& [k, v] : entries) {
    if (py_equal(k, key)) {
      v = std::move(value);
      return;
    }
  }
  entries.emplace_back(std::move(key), std::move(value));
}

const Value* NamespaceData::find(std::string_view name) const {
  for (const auto& [k, v] : attrs)
    if (k == name) return &v;
  return nullptr;
}

void NamespaceData::set(const std::string& name, Value value) {
  for (auto& [k, v] : attrs) {
    if (k == name) {
      v = std::move(value);
      return;
    }
  }
  attrs.emplace_back(name, std::move(value));
}

Value Value::undefined(std::string hint, bool unsafe) {
  return Value(Undefined{std::make_shared<const std::string>(std::move(hint)), unsafe});
}

Value Value::list(std::vector<Value> items, bool is_tuple) {
  auto l = std::make_shared<ListData>();
  l->items = std::move(items);
  l->is_tuple = is_tuple;
  return Value(std::move(l));
}

Value Value::dict() {
  return Value(std::make_shared<DictData>());
}

Value Value::iterator(std::vector<Value> items, std::string type_name) {
  auto it = std::make_shared<IterData>();
  it->items = std::move(items);
  it->type_name = std::move(type_name);
  return Value(std::move(it));
}

bool Value::truthy() const {
  switch (type()) {
    case Type::kUndefined:
    case Type::kNone:
      return false;
    case Type::kBool:
      return as_bool();
    case Type::kInt:
      return as_int() != 0;
    case Type::kFloat:
      return as_float() != 0.0;
    case Type::kString:
      return !str().empty();
    case Type::kList:
      return !items().empty();
    case Type::kDict:
      return !dict_ptr()->entries.empty();
    default:
      return true;
  }
}

std::string Value::type_name() const {
  switch (type()) {
    case Type::kUndefined:
      return "Undefined";
    case Type::kNone:
      return "NoneType";
    case Type::kBool:
      return "bool";
    case Type::kInt:
      return "int";
    case Type::kFloat:
      return "float";
    case Type::kString:
      return is_safe() ? "Markup" : "str";
    case Type::kList:
      return is_tuple() ? "tuple" : "list";
    case Type::kDict:
      return "dict";
    case Type::kNamespace:
      return "Namespace";
    case Type::kCallable:
      return callable()->kind == Callable::Kind::kMacro ? "Macro" : "function";
    case Type::kLoop:
      return "LoopContext";
    case Type::kIterator:
      return iter()->type_name;
  }
  return "object";
}

std::string object_type_repr(const Value& v) {
  if (v.is_none()) return "None";
  if (v.is_namespace()) return "jinja2.utils.Namespace object";
  if (v.is_safe()) return "markupsafe.Markup object";
  if (v.is_loop()) return "jinja2.runtime.LoopContext object";
  if (v.is_callable() && v.callable()->kind == Callable::Kind::kMacro)
    return "jinja2.runtime.Macro object";
  return v.type_name() + " object";
}

bool py_equal(const Value& a, const Value& b) {
  using T = Value::Type;
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.to_double() == b.to_double();
    return a.int_like() == b.int_like();
  }
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case T::kUndefined:
    case T::kNone:
      return true;
    case T::kString:
      return a.str() == b.str();
    case T::kList: {
      if (a.is_tuple() != b.is_tuple()) return false;
      const auto& x = a.items();
      const auto& y = b.items();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!py_equal(x[i], y[i])) return false;
      return true;
    }
    case T::kDict: {
      const auto& x = a.dict_ptr()->entries;
      const auto& y = *b.dict_ptr();
      if (x.size() != y.entries.size()) return false;
      for (const auto& [k, v] : x) {
        const Value* w = y.find(k);
        if (!w || !py_equal(v, *w)) return false;
      }
      return true;
    }
    case T::kNamespace:
      return a.ns() == b.ns();
    case T::kCallable:
      return a.callable() == b.callable();
    case T::kLoop:
      return a.loop() == b.loop();
    case T::kIterator:
      return a.iter() == b.iter();
    default:
      return false;
  }
}

std::string float_repr(double f) {
  if (std::isnan(f)) return "nan";
  if (std::isinf(f)) return f > 0 ? "inf" : "-inf";
  if (f == 0.0) return std::signbit(f) ? "-0.0" : "0.0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  // sci: [-]d[.ddd]e[+-]XX
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  size_t epos = sci.find('e');
  std::string mant = sci.substr(0, epos);
  int exp = std::stoi(sci.substr(epos + 1));
  std::string digits;
  for (char c : mant)
    if (c != '.') digits.push_back(c);
  int decpt = exp + 1;
  std::string out = neg ? "-" : "";
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) {
      out += "0.";
      out.append(static_cast<size_t>(-decpt), '0');
      out += digits;
    } else if (static_cast<size_t>(decpt) >= digits.size()) {
      out += digits;
      out.append(decpt - digits.size(), '0');
      out += ".0";
    } else {
      out += digits.substr(0, decpt);
      out += ".";
      out += digits.substr(decpt);
    }
  } else {
    out += digits.substr(0, 1);
    if (digits.size() > 1) {
      out += ".";
      out += digits.substr(1);
    }
    char ebuf[16];
    std::snprintf(ebuf, sizeof(ebuf), "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    out += ebuf;
  }
  return out;
}

namespace {

void repr_string(const std::string& s, std::string& out) {
  bool has_single = s.find('\'') != std::string::npos;
  bool has_double = s.find('"') != std::string::npos;
  char quote = (has_single && !has_double) ? '"' : '\'';
  out.push_back(quote);
  auto emit = [&](char32_t c) {
    char buf[16];
    if (c == static_cast<char32_t>(quote) || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7F) {
      std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned>(c));
      out += buf;
    } else if (c < 0x7F) {
      out.push_back(static_cast<char>(c));
    } else if (py_isprintable(c)) {
      utf8_append(c, out);
    } else if (c <= 0xFF) {
      std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned>(c));
      out += buf;
    } else if (c <= 0xFFFF) {
      std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      std::snprintf(buf, sizeof(buf), "\\U%08x", static_cast<unsigned>(c));
      out += buf;
    }
  };
  if (is_ascii(s)) {
    for (char c : s) emit(static_cast<unsigned char>(c));
  } else {
    for (char32_t c : utf8_decode(s)) emit(c);
  }
  out.push_back(quote);
}

void append_repr(const Value& v, std::string& out, int depth);

void append_str_impl(const Value& v, std::string& out, int depth) {
  using T = Value::Type;
  switch (v.type()) {
    case T::kUndefined:
      return;
    case T::kString:
      out += v.str();
      return;
    default:
      append_repr(v, out, depth);
  }
}

void append_repr(const Value& v, std::string& out, int depth) {
  using T = Value::Type;
  if (depth > 200) {
    out += "...";
    return;
  }
  switch (v.type()) {
    case T::kUndefined:
      out += "Undefined";
      return;
    case T::kNone:
      out += "None";
      return;
    case T::kBool:
      out += v.as_bool() ? "True" : "False";
      return;
    case T::kInt:
      out += std::to_string(v.as_int());
      return;
    case T::kFloat:
      out += float_repr(v.as_float());
      return;
    case T::kString:
      if (v.is_safe()) {
        out += "Markup(";
        repr_string(v.str(), out);
        out += ")";
      } else {
        repr_string(v.str(), out);
      }
      return;
    case T::kList: {
      bool tuple = v.is_tuple();
      out.push_back(tuple ? '(' : '[');
      const auto& items = v.items();
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += ", ";
        append_repr(items[i], out, depth + 1);
      }
      if (tuple && items.size() == 1) out.push_back(',');
      out.push_back(tuple ? ')' : ']');
      return;
    }
    case T::kDict: {
      out.push_back('{');
      bool first = true;
      for (const auto& [k, val] : v.dict_ptr()->entries) {
        if (!first) out += ", ";
        first = false;
        append_repr(k, out, depth + 1);
        out += ": ";
        append_repr(val, out, depth + 1);
      }
      out.push_back('}');
      return;
    }
    case T::kNamespace: {
      out += "<Namespace {";
      bool first = true;
      for (const auto& [k, val] : v.ns()->attrs) {
        if (!first) out += ", ";
        first = false;
        repr_string(k, out);
        out += ": ";
        append_repr(val, out, depth + 1);
      }
      out += "}>";
      return;
    }
    case T::kCallable:
      if (v.callable()->kind == Callable::Kind::kMacro)
        out += "<Macro '" + v.callable()->name + "'>";
      else
        out += "<built-in function " + v.callable()->name + ">";
      return;
    case T::kLoop:
      out += "<LoopContext " + std::to_string(v.loop()->index0 + 1) + "/" +
             std::to_string(v.loop()->length) + ">";
      return;
    case T::kIterator:
      out += "<" + v.iter()->type_name + " object>";
      return;
  }
}

}  // namespace

void append_str(const Value& v, std::string& out) {
  append_str_impl(v, out, 0);
}

std::string py_str(const Value& v) {
  if (v.is_string()) return v.str();
  std::string out;
  append_str_impl(v, out, 0);
  return out;
}

std::string py_repr(const Value& v) {
  std::string out;
  append_repr(v, out, 0);
  return out;
}

}  // namespace sluice::jinja
