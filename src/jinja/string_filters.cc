// jinja2's string and number filters (Python semantics), with `tojson` as Hugging Face overrides
// it: json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "jinja/builtins.h"
#include "jinja/filters.h"
#include "jinja/interpreter.h"
#include "jinja/json.h"
#include "jinja/operators.h"
#include "jinja/unicode.h"

namespace sluice::jinja {

namespace {

// str() of a value, keeping Markup (jinja2's soft_str).
Value soft_str(const Value& v) {
  if (v.is_string()) return v;
  return Value(py_str(v));
}

Value f_abs(Interpreter& in, const Value& v, CallArgs& a) {
  bind_args(in, "abs", a, {});
  if (v.is_float()) return Value(std::fabs(v.as_float()));
  if (v.is_int() || v.is_bool()) {
    int64_t i = v.int_like();
    if (i == INT64_MIN) in.fail("OverflowError", "integer overflow");
    return Value(i < 0 ? -i : i);
  }
  if (v.is_undefined()) in.fail_undefined(v);
  in.fail("TypeError", "bad operand type for abs(): '" + v.type_name() + "'");
}

Value f_capitalize(Interpreter& in, const Value& v, CallArgs& a) {
  bind_args(in, "capitalize", a, {});
  Value s = soft_str(v);
  std::u32string cps = utf8_decode(s.str());
  for (size_t i = 0; i < cps.size(); ++i) cps[i] = i == 0 ? py_toupper(cps[i]) : py_tolower(cps[i]);
  return Value(utf8_encode(cps), s.is_safe());
}

Value f_center(Interpreter& in, const Value& v, CallArgs& a) {
  BoundArgs b = bind_args(in, "center", a, {"width"});
  int64_t width = b.has(0) ? as_int_arg(in, b[0], "width") : 80;
  Value s = soft_str(v);
  int64_t len = static_cast<int64_t>(utf8_length(s.str()));
  if (width <= len) return s;
  int64_t pad = width - len;
  int64_t left = pad / 2 + (pad & width & 1);
  in.check_string_size(static_cast<size_t>(width));
  return Value(std::string(left, ' ') + s.str() + std::string(pad - left, ' '), s.is_safe());
}

Value f_escape(Interpreter& in, const Value& v, CallArgs& a) {
  bind_args(in, "escape", a, {});
  if (v.is_safe()) return v;
  return Value(html_escape(py_str(v)), true);
}

Value f_forceescape(Interpreter& in, const Value& v, CallArgs& a) {
  bind_args(in, "forceescape", a, {});
  return Value(html_escape(py_str(v)), true);
}

// Python float(str): optional whitespace, sign, digits with underscores, inf/nan.
bool parse_py_float(const std::string& s, double* out) {
  std::string t = py_strip(s, Value::none(), true, true);
  std::string clean;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '_') {
      if (i == 0 || i + 1 >= t.size() || !std::isdigit(static_cast<unsigned char>(t[i - 1])) ||
          !std::isdigit(static_cast<unsigned char>(t[i + 1])))
        return false;
      continue;
    }
    clean.push_back(t[i]);
  }
  if (clean.empty()) return false;
  std::string lower = str_lower(clean);
  std::string body = (lower[0] == '+' || lower[0] == '-') ? lower.substr(1) : lower;
  if (body == "inf" || body == "infinity" || body == "nan") {
    double x = body == "nan" ? NAN : INFINITY;
    *out = lower[0] == '-' ? -x : x;
    return true;
  }
  for (char c : body)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == '+' ||
          c == '-'))
      return false;
  char* end = nullptr;
  *out = std::strtod(clean.c_str(), &end);
  return end && *end == '\0';
}

bool parse_py_int(const std::string& s, int64_t base, int64_t* out) {
  std::string t = py_strip(s, Value::none(), true, true);
  bool neg = false;
  size_t i = 0;
  if (i < t.size() && (t[i] == '+' || t[i] == '-')) neg = t[i++] == '-';
  if (base == 0 || base == 16 || base == 8 || base == 2) {
    if (i + 1 < t.size() && t[i] == '0') {
      char p = static_cast<char>(t[i + 1] | 0x20);
      int64_t pb = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
      if (pb && (base == 0 || base == pb)) {
        base = pb;
        i += 2;
        if (i < t.size() && t[i] == '_') ++i;
      }
    }
    if (base == 0) base = 10;
  }
  if (i >= t.size()) return false;
  int64_t v = 0;
  bool any = false;
  for (; i < t.size(); ++i) {
    char c = t[i];
    if (c == '_' && any && i + 1 < t.size() && t[i + 1] != '_') continue;
    int d = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'a' && c <= 'z') ? c - 'a' + 10
            : (c >= 'A' && c <= 'Z') ? c - 'A' + 10
                                     : 99;
    if (d >= base) return false;
    if (__builtin_mul_overflow(v, base, &v) || __builtin_add_overflow(v, d, &v)) return false;
    any = true;
  }
  if (!any) return false;
  *out = neg ? -v : v;
  return true;
}

Value f_float(Interpreter& in, const Value& v, CallArgs& a) {
  BoundArgs b = bind_args(in, "float", a, {"default"});
  Value def = b.has(0) ? b[0] : Value(0.0);
  if (v.is_float()) return v;
  if (v.is_int() || v.is_bool()) return Value(v.to_double());
  if (v.is_undefined()) in.fail_undefined(v);
  if (v.is_string()) {
    double d;
    if (parse_py_float(v.str(), &d)) return Value(d);
  }
  return def;
}

Value f_int(Interpreter& in, const Value& v, CallArgs& a) {
  BoundArgs b = bind_args(in, "int", a, {"default", "base"});
  Value def = b.has(0) ? b[0] : Value(int64_t{0});
  int64_t base = b.has(1) ? as_int_arg(in, b[1], "base") : 10;
  if (v.is_int()) return v;
  if (v.is_bool()) return Value(v.int_like());
  if (v.is_undefined()) in.fail_undefined(v);
  if (v.is_float()) {
    double d = v.as_float();
    if (std::isnan(d) || std::isinf(d) || std::fabs(d) >= 9.2e18) return def;
    return Value(static_cast<int64_t>(std::trunc(d)));
  }
  if (v.is_string()) {
    int64_t i;
    if (parse_py_int(v.str(), base, &i)) return Value(i);
    double d;
    if (parse_py_float(v.str(), &d) && !std::isnan(d) && !std::isinf(d) && std::fabs(d) < 9.2e18)
      return Value(static_cast<int64_t>(std::trunc(d)));
  }
  return def;
}

Value f_format(Interpreter& in, const Value& v, CallArgs& a) {
  if (!a.pos.empty() && !a.kw.empty())
    in.fail("FilterArgumentError",
            "can't handle positional and keyword arguments at the same time");
  Value s = soft_str(v);
  if (!a.kw.empty()) {
    auto d = std::make_shared<DictData>();
    for (auto& [k, val] : a.kw) d->set(Value(k), val);
    return Value(percent_format(in, s.str(), Value(d)));
  }
  return Value(percent_format(in, s.str(), Value::list(a.pos, true)));
}

Value f_indent(Interpreter& in, const Value& v, CallArgs& a) {
  BoundArgs b = bind_args(in, "indent", a, {"width", "first", "blank"});
  std::string indention;
  if (b.has(0) && b[0].is_string())
    indention = b[0].str();
  else
    indention =
        std::string(b.has(0) ? std::max<int64_t>(0, as_int_arg(in, b[0], "width")) : 4, ' ');
  bool first = b.has(1) && b[1].truthy();
  bool blank = b.has(2) && b[2].truthy();
  Value sv = soft_str(v);
  std::string s = sv.str() + "\n";
  // str.splitlines (on \n, \r, \r\n and the other Python line boundaries; \n suffices here
  // because templates normalise newlines)
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' || s[i] == '\r') {
      lines.push_back(s.substr(start, i - start));
      if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
      start = i + 1;
    }
  }
  if (start < s.size()) lines.push_back(s.substr(start));
  std::string rv;
  if (blank) {
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i) rv += "\n" + indention;
      rv += lines[i];
    }
  } else {
    rv = lines.empty() ? "" : lines[0];
    for (size_t i = 1; i < lines.size(); ++i) {
      rv += "\n";
      if (!lines[i].empty()) rv += indention;
      rv += lines[i];
    }
  }
  if (first) rv = indention + rv;
  return Value(std::move(rv), sv.is_safe());
}

Value f_lower(Interpreter& in, const Value& v, CallArgs& a) {
  bind_args(in, "lower", a, {});
  Value s = soft_str(v);
  return Value(str_lower(s.str()), s.is_safe());
}

Value f_upper(Interpreter& in, const Value& v, CallArgs& a) {
  bind_args(in, "upper", a, {});
  Value s = soft_str(v);
  return Value(str_upper(s.str()), s.is_safe());
}

Value f_pprint(Interpreter& in, const Value& v, CallArgs& a) {
  bind_args(in, "pprint", a, {});
  return Value(py_repr(v));
}

Value f_replace(Interpreter& in, const Value& v, CallArgs& a) {
  BoundArgs b = bind_args(in, "replace", a, {"old", "new", "count"});
  if (!b.has(0) || !b.has(1)) in.fail("TypeError", "replace() missing required argument");
  std::string s = py_str(v);
  std::string old = py_str(b[0]);
  std::string rep = py_str(b[1]);
  int64_t count = (b.has(2) && !b[2].is_none()) ? as_int_arg(in, b[2], "count") : -1;
  std::string out;
  if (old.empty()) {
    // Python inserts `rep` between every character (and at both ends).
    std::u32string cps = utf8_decode(s);
    int64_t done = 0;
    for (size_t i = 0; i <= cps.size(); ++i) {
      if (count < 0 || done < count) {
        out += rep;
        ++done;
      }
      if (i < cps.size()) utf8_append(cps[i], out);
      in.check_string_size(out.size());
    }
    return Value(std::move(out));
  }
  size_t pos = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    size_t f = s.find(old, pos);
    if (f == std::string::npos) break;
    out.append(s, pos, f - pos);
    out += rep;
    pos = f + old.size();
    ++done;
    in.check_string_size(out.size());
  }
  out.append(s, pos, std::string::npos);
  return Value(std::move(out));
}

Value f_round(Interpreter& in, const Value& v, CallArgs& a) {
  BoundArgs b = bind_args(in, "round", a, {"precision", "method"});
  int64_t precision = b.has(0) ? as_int_arg(in, b[0], "precision") : 0;
  std::string method = b.has(1) ? py_str(b[1]) : "common";
  if (method != "common" && method != "ceil" && method != "floor")
    in.fail("FilterArgumentError", "method must be common, ceil or floor");
  if (!v.is_number()) {
    if (v.is_undefined()) in.fail_undefined(v);
    in.fail("TypeError", "type " + v.type_name() + " doesn't define __round__ method");
  }
  double x = v.to_double();
  double scale = std::pow(10.0, static_cast<double>(precision));
  double r;
  if (method == "ceil")
    r = std::ceil(x * scale) / scale;
  else if (method == "floor")
    r = std::floor(x * scale) / scale;
  else
    r = std::nearbyint(x * scale) / scale;  // round-half-even, like Python's round()
  if (method == "common" && !v.is_float() && precision >= 0) return Value(v.int_like());
  return Value(r);
}

Value f_safe(Interpreter& in, const Value& v, CallArgs& a) {
  bind_args(in, "safe", a, {});
  if (v.is_safe()) return v;
  return Value(py_str(v), true);
}

Value f_string(Interpreter& in, const Value& v, CallArgs& a) {
  bind_args(in, "string", a, {});
  return soft_str(v);
}

Value f_striptags(Interpreter& in, const Value& v, CallArgs& a) {
  bind_args(in, "striptags", a, {});
  std::string s = py_str(v), out;
  bool in_tag = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!in_tag && s.compare(i, 4, "<!--") == 0) {
      size_t e = s.find("-->", i + 4);
      if (e != std::string::npos) {
        i = e + 2;
        continue;
      }
    }
    if (s[i] == '<') {
      in_tag = true;
    } else if (s[i] == '>' && in_tag) {
      in_tag = false;
    } else if (!in_tag) {
      out.push_back(s[i]);
    }
  }
  std::string joined;
  for (const auto& w : py_split(out, Value::none(), -1, false)) {
    if (!joined.empty()) joined.push_back(' ');
    joined += w;
  }
  return Value(std::move(joined));
}

Value f_title(Interpreter& in, const Value& v, CallArgs& a) {
  bind_args(in, "title", a, {});
  // jinja2: split on ([-\s({\[<]+) and capitalize each chunk.
  Value sv = soft_str(v);
  std::u32string cps = utf8_decode(sv.str());
  auto is_sep = [](char32_t c) {
    return py_isspace(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<';
  };
  std::u32string out;
  size_t i = 0;
  while (i < cps.size()) {
    size_t j = i;
    if (is_sep(cps[i])) {
      while (j < cps.size() && is_sep(cps[j])) ++j;
      out += cps.substr(i, j - i);
    } else {
      while (j < cps.size() && !is_sep(cps[j])) ++j;
      for (size_t k = i; k < j; ++k)
        out.push_back(k == i ? py_toupper(cps[k]) : py_tolower(cps[k]));
    }
    i = j;
  }
  return Value(utf8_encode(out), sv.is_safe());
}

Value f_tojson(Interpreter& in, const Value& v, CallArgs& a) {
  BoundArgs b = bind_args(in, "tojson", a, {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonDumpOptions opts;
  opts.ensure_ascii = b.has(0) && b[0].truthy();
  if (b.has(1) && !b[1].is_none()) {
    if (b[1].is_string())
      opts.indent = b[1].str();
    else
      opts.indent = std::string(std::max<int64_t>(0, as_int_arg(in, b[1], "indent")), ' ');
    opts.item_separator = ",";
  }
  if (b.has(2) && !b[2].is_none()) {
    std::vector<Value> seps = in.iterate(b[2]);
    if (seps.size() != 2 || !seps[0].is_string() || !seps[1].is_string())
      in.fail("ValueError", "separators must be a pair of strings");
    opts.item_separator = seps[0].str();
    opts.key_separator = seps[1].str();
  }
  opts.sort_keys = b.has(3) && b[3].truthy();
  std::string out = json_dumps(v, opts);
  in.check_string_size(out.size());
  return Value(std::move(out));
}

Value f_trim(Interpreter& in, const Value& v, CallArgs& a) {
  BoundArgs b = bind_args(in, "trim", a, {"chars"});
  Value s = soft_str(v);
  Value chars = b.has(0) ? b[0] : Value::none();
  if (!chars.is_none() && !chars.is_string()) in.fail("TypeError", "strip arg must be None or str");
  return Value(py_strip(s.str(), chars, true, true), s.is_safe());
}

Value f_truncate(Interpreter& in, const Value& v, CallArgs& a) {
  BoundArgs b = bind_args(in, "truncate", a, {"length", "killwords", "end", "leeway"});
  int64_t length = b.has(0) ? as_int_arg(in, b[0], "length") : 255;
  bool killwords = b.has(1) && b[1].truthy();
  std::string end = b.has(2) ? py_str(b[2]) : "...";
  int64_t leeway = (b.has(3) && !b[3].is_none()) ? as_int_arg(in, b[3], "leeway") : 5;
  std::u32string s = utf8_decode(py_str(v));
  std::u32string e = utf8_decode(end);
  if (length < static_cast<int64_t>(e.size()))
    in.fail("AssertionError", "expected length >= " + std::to_string(e.size()));
  if (static_cast<int64_t>(s.size()) <= length + leeway) return Value(utf8_encode(s));
  std::u32string head = s.substr(0, length - e.size());
  if (killwords) return Value(utf8_encode(head) + end);
  size_t sp = head.rfind(U' ');
  if (sp != std::u32string::npos) head = head.substr(0, sp);
  return Value(utf8_encode(head) + end);
}

Value f_wordcount(Interpreter& in, const Value& v, CallArgs& a) {
  bind_args(in, "wordcount", a, {});
  int64_t n = 0;
  bool in_word = false;
  for (char32_t c : utf8_decode(py_str(v))) {
    bool w = py_isalpha(c) || py_isdigit(c) || c == '_' || c >= 0x80;
    if (w && !in_word) ++n;
    in_word = w;
  }
  return Value(n);
}

}  // namespace

void add_string_filters(FilterTable& table) {
  table.insert({
      {"abs", f_abs},
      {"capitalize", f_capitalize},
      {"center", f_center},
      {"e", f_escape},
      {"escape", f_escape},
      {"float", f_float},
      {"forceescape", f_forceescape},
      {"format", f_format},
      {"indent", f_indent},
      {"int", f_int},
      {"lower", f_lower},
      {"pprint", f_pprint},
      {"replace", f_replace},
      {"round", f_round},
      {"safe", f_safe},
      {"string", f_string},
      {"striptags", f_striptags},
      {"title", f_title},
      {"tojson", f_tojson},
      {"trim", f_trim},
      {"truncate", f_truncate},
      {"upper", f_upper},
      {"wordcount", f_wordcount},
  });
}

}  // namespace sluice::jinja
