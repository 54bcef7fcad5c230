// Python methods of str / dict / list that templates call ("s.startswith('x')", "d.items()").
// Mutating methods are refused, as jinja2's ImmutableSandboxedEnvironment refuses them.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <unordered_set>

#include "jinja/builtins.h"
#include "jinja/interpreter.h"
#include "jinja/operators.h"
#include "jinja/unicode.h"

namespace sluice::jinja {

namespace {

// Membership in a name list: a hash set per list, built once (attribute access is hot).
template <const auto& kNames>
bool in_list(std::string_view name) {
  static const std::unordered_set<std::string_view> set(std::begin(kNames), std::end(kNames));
  return set.count(name) != 0;
}

constexpr std::string_view kStrMethods[] = {
    "capitalize",   "casefold",     "center",      "count",     "endswith",   "expandtabs",
    "find",         "format",       "index",       "isalnum",   "isalpha",    "isascii",
    "isdecimal",    "isdigit",      "islower",     "isnumeric", "isspace",    "istitle",
    "isupper",      "join",         "ljust",       "lower",     "lstrip",     "partition",
    "removeprefix", "removesuffix", "replace",     "rfind",     "rindex",     "rjust",
    "rpartition",   "rsplit",       "rstrip",      "split",     "splitlines", "startswith",
    "strip",        "swapcase",     "title",       "upper",     "zfill",      "format_map",
    "encode",       "isidentifier", "isprintable", "maketrans", "translate"};
constexpr std::string_view kDictSafe[] = {"get", "items", "keys", "values", "copy", "fromkeys"};
constexpr std::string_view kDictUnsafe[] = {"pop", "popitem", "setdefault", "update", "clear"};
constexpr std::string_view kListSafe[] = {"index", "count", "copy"};
constexpr std::string_view kListUnsafe[] = {"append", "extend",  "insert", "pop",
                                            "remove", "reverse", "sort",   "clear"};
constexpr std::string_view kNumMethods[] = {"bit_length", "conjugate",  "real",
                                            "imag",       "is_integer", "as_integer_ratio"};

void max_args(Interpreter& in, CallArgs& a, size_t n, const char* name) {
  if (a.pos.size() + a.kw.size() > n)
    in.fail("TypeError", std::string(name) + "() takes at most " + std::to_string(n) + " argument" +
                             (n == 1 ? "" : "s") + " (" +
                             std::to_string(a.pos.size() + a.kw.size()) + " given)");
}

const Value& need_str(Interpreter& in, const Value& v, const char* what) {
  if (v.is_undefined()) in.fail_undefined(v);
  if (!v.is_string())
    in.fail("TypeError", std::string(what) + " must be str, not " + v.type_name());
  return v;
}

Value arg(CallArgs& a, size_t i, const char* name, Value def = Value::none()) {
  if (i < a.pos.size()) return a.pos[i];
  for (auto& [k, v] : a.kw)
    if (k == name) return v;
  return def;
}

// Code-point position of a byte offset.
int64_t cp_index(const std::string& s, size_t byte_pos) {
  return static_cast<int64_t>(utf8_length(std::string_view(s).substr(0, byte_pos)));
}

std::string py_title(const std::string& s) {
  std::string out;
  bool prev_cased = false;
  for (char32_t c : utf8_decode(s)) {
    bool cased = py_isupper(c) || py_islower(c);
    utf8_append(cased ? (prev_cased ? py_tolower(c) : py_toupper(c)) : c, out);
    prev_cased = cased;
  }
  return out;
}

std::string pad(Interpreter& in, const std::string& s, int64_t width, char32_t fill, char align) {
  int64_t len = static_cast<int64_t>(utf8_length(s));
  if (width <= len) return s;
  in.check_string_size(static_cast<size_t>(width) * 4);
  int64_t total = width - len, left = 0;
  if (align == '>') left = total;
  if (align == '^') left = total / 2 + (total & width & 1);
  std::string f;
  utf8_append(fill, f);
  std::string out;
  for (int64_t i = 0; i < left; ++i) out += f;
  out += s;
  for (int64_t i = 0; i < total - left; ++i) out += f;
  return out;
}

// Python's format-spec mini-language for str / int / float.
std::string format_spec(Interpreter& in, const Value& v, const std::string& spec) {
  if (spec.empty()) return py_str(v);
  size_t i = 0;
  char32_t fill = ' ';
  char align = 0;
  std::u32string sp = utf8_decode(spec);
  if (sp.size() >= 2 && (sp[1] == '<' || sp[1] == '>' || sp[1] == '^' || sp[1] == '=')) {
    fill = sp[0];
    align = static_cast<char>(sp[1]);
    i = 2;
  } else if (!sp.empty() && (sp[0] == '<' || sp[0] == '>' || sp[0] == '^' || sp[0] == '=')) {
    align = static_cast<char>(sp[0]);
    i = 1;
  }
  char sign = 0;
  if (i < sp.size() && (sp[i] == '+' || sp[i] == '-' || sp[i] == ' '))
    sign = static_cast<char>(sp[i++]);
  if (i < sp.size() && sp[i] == '0') {
    if (!align) {
      fill = '0';
      align = '=';
    }
    ++i;
  }
  int64_t width = 0;
  while (i < sp.size() && sp[i] >= '0' && sp[i] <= '9') width = width * 10 + (sp[i++] - '0');
  bool comma = false;
  if (i < sp.size() && sp[i] == ',') {
    comma = true;
    ++i;
  }
  int precision = -1;
  if (i < sp.size() && sp[i] == '.') {
    ++i;
    precision = 0;
    while (i < sp.size() && sp[i] >= '0' && sp[i] <= '9')
      precision = precision * 10 + (sp[i++] - '0');
  }
  char type = i < sp.size() ? static_cast<char>(sp[i++]) : 0;
  if (i != sp.size()) in.fail("ValueError", "Invalid format specifier");
  std::string body;
  char buf[512];
  if (v.is_string() || (!v.is_number() && (type == 0 || type == 's'))) {
    body = py_str(v);
    if (precision >= 0) body = utf8_encode(utf8_decode(body).substr(0, precision));
    if (!align) align = '<';
  } else if (v.is_number()) {
    bool use_float =
        v.is_float() || (type && std::string("eEfFgG%").find(type) != std::string::npos);
    if (!use_float) {
      if (type && type != 'd' && type != 'x' && type != 'X' && type != 'o' && type != 'b' &&
          type != 'n')
        in.fail("ValueError", "Unknown format code for int");
      int64_t x = v.int_like();
      if (type == 'x' || type == 'X' || type == 'o') {
        std::snprintf(buf, sizeof(buf),
                      type == 'x'   ? "%llx"
                      : type == 'X' ? "%llX"
                                    : "%llo",
                      static_cast<unsigned long long>(x < 0 ? -x : x));
        body = std::string(x < 0 ? "-" : "") + buf;
      } else {
        body = std::to_string(x);
      }
      if (comma) {
        std::string digits = body[0] == '-' ? body.substr(1) : body, grouped;
        for (size_t k = 0; k < digits.size(); ++k) {
          if (k && (digits.size() - k) % 3 == 0) grouped.push_back(',');
          grouped.push_back(digits[k]);
        }
        body = (body[0] == '-' ? "-" : "") + grouped;
      }
    } else {
      double x = v.to_double();
      if (type == 0 && precision < 0) {
        body = float_repr(x);
      } else {
        char t = type ? type : 'g';
        if (t == '%') {
          x *= 100;
          t = 'f';
        }
        std::string f = "%." + std::to_string(precision < 0 ? 6 : precision) + t;
        std::snprintf(buf, sizeof(buf), f.c_str(), x);
        body = buf;
        if (type == '%') body += "%";
      }
    }
    if (sign == '+' && body[0] != '-') body = "+" + body;
    if (sign == ' ' && body[0] != '-') body = " " + body;
    if (!align) align = '>';
    if (align == '=') {
      std::string s = (body[0] == '-' || body[0] == '+' || body[0] == ' ') ? body.substr(0, 1) : "";
      std::string rest = body.substr(s.size());
      return s + pad(in, rest, width - static_cast<int64_t>(s.size()), fill, '>');
    }
  } else {
    in.fail("TypeError", "unsupported format string passed to " + v.type_name() + ".__format__");
  }
  return pad(in, body, width, fill, align);
}

std::string str_format(Interpreter& in, const std::string& fmt, CallArgs& a) {
  std::string out;
  size_t auto_idx = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') {
        out.push_back('}');
        ++i;
        continue;
      }
      in.fail("ValueError", "Single '}' encountered in format string");
    }
    if (c != '{') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out.push_back('{');
      ++i;
      continue;
    }
    size_t close = fmt.find('}', i);
    if (close == std::string::npos)
      in.fail("ValueError", "Single '{' encountered in format string");
    std::string field = fmt.substr(i + 1, close - i - 1);
    i = close;
    std::string spec, conv;
    size_t colon = field.find(':');
    if (colon != std::string::npos) {
      spec = field.substr(colon + 1);
      field = field.substr(0, colon);
    }
    size_t bang = field.find('!');
    if (bang != std::string::npos) {
      conv = field.substr(bang + 1);
      field = field.substr(0, bang);
    }
    size_t end = field.find_first_of(".[");
    std::string head = field.substr(0, end);
    Value v;
    if (head.empty()) {
      if (auto_idx >= a.pos.size())
        in.fail("IndexError", "Replacement index " + std::to_string(auto_idx) +
                                  " out of range for positional args tuple");
      v = a.pos[auto_idx++];
    } else if (std::all_of(head.begin(), head.end(), [](char d) { return d >= '0' && d <= '9'; })) {
      size_t idx = std::strtoul(head.c_str(), nullptr, 10);
      if (idx >= a.pos.size())
        in.fail("IndexError",
                "Replacement index " + head + " out of range for positional args tuple");
      v = a.pos[idx];
    } else {
      bool found = false;
      for (auto& [k, val] : a.kw)
        if (k == head) {
          v = val;
          found = true;
        }
      if (!found) in.fail("KeyError", "'" + head + "'");
    }
    while (end != std::string::npos && end < field.size()) {
      if (field[end] == '.') {
        size_t nxt = field.find_first_of(".[", end + 1);
        v = in.getattr(
            v, field.substr(end + 1, nxt == std::string::npos ? std::string::npos : nxt - end - 1));
        end = nxt;
      } else {
        size_t rb = field.find(']', end);
        if (rb == std::string::npos) in.fail("ValueError", "Missing ']' in format string");
        std::string key = field.substr(end + 1, rb - end - 1);
        bool digits = !key.empty() && std::all_of(key.begin(), key.end(),
                                                  [](char d) { return d >= '0' && d <= '9'; });
        v = in.getitem(v, digits
                              ? Value(static_cast<int64_t>(std::strtoll(key.c_str(), nullptr, 10)))
                              : Value(key));
        end = rb + 1;
      }
    }
    if (v.is_undefined() && v.undef().unsafe) in.fail_undefined(v);
    if (conv == "r" || conv == "a")
      v = Value(py_repr(v));
    else if (conv == "s")
      v = Value(py_str(v));
    out += format_spec(in, v, spec);
    in.check_string_size(out.size());
  }
  return out;
}

bool str_method(Interpreter& in, const Value& self, const std::string& name, CallArgs& a,
                Value* out) {
  const std::string& s = self.str();
  const bool safe = self.is_safe();
  auto ret_str = [&](std::string r) {
    *out = Value(std::move(r), safe);
    return true;
  };
  if (name == "startswith" || name == "endswith") {
    max_args(in, a, 3, name.c_str());
    Value p = arg(a, 0, "prefix");
    std::vector<Value> prefixes;
    if (p.is_tuple())
      prefixes = p.items();
    else
      prefixes.push_back(p);
    std::string sub = s;
    if (a.pos.size() > 1) {
      Value sliced = slice_value(in, self, a.pos[1], a.pos.size() > 2 ? a.pos[2] : Value::none(),
                                 Value::none());
      sub = sliced.is_string() ? sliced.str() : s;
    }
    for (const auto& x : prefixes) {
      if (!x.is_string())
        in.fail("TypeError",
                name + " first arg must be str or a tuple of str, not " + x.type_name());
      const std::string& t = x.str();
      bool hit = name == "startswith" ? sub.compare(0, t.size(), t) == 0 && sub.size() >= t.size()
                                      : sub.size() >= t.size() &&
                                            sub.compare(sub.size() - t.size(), t.size(), t) == 0;
      if (hit) {
        *out = Value(true);
        return true;
      }
    }
    *out = Value(false);
    return true;
  }
  if (name == "split" || name == "rsplit") {
    max_args(in, a, 2, name.c_str());
    Value sep = arg(a, 0, "sep");
    Value maxsplit = arg(a, 1, "maxsplit", Value(int64_t{-1}));
    if (!sep.is_none()) {
      need_str(in, sep, "separator");
      if (sep.str().empty()) in.fail("ValueError", "empty separator");
    }
    if (!maxsplit.is_int() && !maxsplit.is_bool())
      in.fail("TypeError",
              "'" + maxsplit.type_name() + "' object cannot be interpreted as an integer");
    std::vector<Value> parts;
    for (auto& p : py_split(s, sep, maxsplit.int_like(), name == "rsplit"))
      parts.emplace_back(std::move(p), safe);
    *out = Value::list(std::move(parts));
    return true;
  }
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    max_args(in, a, 1, name.c_str());
    Value chars = arg(a, 0, "chars");
    if (!chars.is_none()) need_str(in, chars, "strip arg");
    return ret_str(py_strip(s, chars, name != "rstrip", name != "lstrip"));
  }
  if (name == "lower") return ret_str(str_lower(s));
  if (name == "upper") return ret_str(str_upper(s));
  if (name == "casefold") return ret_str(str_lower(s));
  if (name == "title") return ret_str(py_title(s));
  if (name == "capitalize") {
    std::u32string cps = utf8_decode(s);
    for (size_t i = 0; i < cps.size(); ++i)
      cps[i] = i == 0 ? py_toupper(cps[i]) : py_tolower(cps[i]);
    return ret_str(utf8_encode(cps));
  }
  if (name == "swapcase") {
    std::string r;
    for (char32_t c : utf8_decode(s))
      utf8_append(py_isupper(c) ? py_tolower(c) : py_islower(c) ? py_toupper(c) : c, r);
    return ret_str(std::move(r));
  }
  if (name == "replace") {
    max_args(in, a, 3, "replace");
    CallArgs fa;
    fa.pos = {need_str(in, arg(a, 0, "old"), "replace() argument 1"),
              need_str(in, arg(a, 1, "new"), "replace() argument 2")};
    Value count = arg(a, 2, "count", Value(int64_t{-1}));
    if (count.int_like() >= 0) fa.pos.push_back(count);
    Value r = in.apply_filter("replace", self, fa);
    return ret_str(r.str());
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
    max_args(in, a, 3, name.c_str());
    const std::string& sub = need_str(in, arg(a, 0, "sub"), "must be str").str();
    int64_t offset = 0;
    std::string hay = s;
    if (a.pos.size() > 1) {
      Value start = a.pos[1];
      Value stop = a.pos.size() > 2 ? a.pos[2] : Value::none();
      hay = slice_value(in, self, start, stop, Value::none()).str();
      int64_t n = static_cast<int64_t>(utf8_length(s));
      int64_t st = start.is_none() ? 0 : start.int_like();
      if (st < 0) st = std::max<int64_t>(0, st + n);
      offset = std::min(st, n);
    }
    if (name == "count") {
      int64_t n = 0;
      if (sub.empty()) {
        n = static_cast<int64_t>(utf8_length(hay)) + 1;
      } else {
        for (size_t p = hay.find(sub); p != std::string::npos; p = hay.find(sub, p + sub.size()))
          ++n;
      }
      *out = Value(n);
      return true;
    }
    size_t p = (name == "find" || name == "index") ? hay.find(sub) : hay.rfind(sub);
    if (p == std::string::npos) {
      if (name == "index" || name == "rindex") in.fail("ValueError", "substring not found");
      *out = Value(int64_t{-1});
      return true;
    }
    *out = Value(offset + cp_index(hay, p));
    return true;
  }
  if (name == "join") {
    max_args(in, a, 1, "join");
    std::string r;
    size_t i = 0;
    for (const auto& item : in.iterate(arg(a, 0, "iterable"))) {
      if (!item.is_string())
        in.fail("TypeError", "sequence item " + std::to_string(i) + ": expected str instance, " +
                                 item.type_name() + " found");
      if (i++) r += s;
      r += item.str();
      in.check_string_size(r.size());
    }
    return ret_str(std::move(r));
  }
  if (name == "format") return ret_str(str_format(in, s, a));
  if (name == "format_map") {
    CallArgs fa;
    Value m = arg(a, 0, "mapping");
    if (m.is_dict())
      for (const auto& [k, v] : m.dict_ptr()->entries) fa.kw.emplace_back(py_str(k), v);
    return ret_str(str_format(in, s, fa));
  }
  if (name == "center" || name == "ljust" || name == "rjust") {
    max_args(in, a, 2, name.c_str());
    Value w = arg(a, 0, "width");
    if (!w.is_int() && !w.is_bool()) in.fail("TypeError", "width must be an integer");
    Value f = arg(a, 1, "fillchar", Value(" "));
    std::u32string fc = utf8_decode(need_str(in, f, "fillchar").str());
    if (fc.size() != 1)
      in.fail("TypeError", "The fill character must be exactly one character long");
    return ret_str(pad(in, s, w.int_like(), fc[0],
                       name == "center"  ? '^'
                       : name == "ljust" ? '<'
                                         : '>'));
  }
  if (name == "zfill") {
    Value w = arg(a, 0, "width");
    int64_t width = w.int_like();
    std::string sign = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? s.substr(0, 1) : "";
    std::string rest = s.substr(sign.size());
    int64_t len = static_cast<int64_t>(utf8_length(s));
    if (width <= len) return ret_str(s);
    in.check_string_size(static_cast<size_t>(width));
    return ret_str(sign + std::string(width - len, '0') + rest);
  }
  if (name == "splitlines") {
    bool keep = arg(a, 0, "keepends", Value(false)).truthy();
    std::vector<Value> lines;
    std::u32string cps = utf8_decode(s);
    size_t start = 0;
    for (size_t i = 0; i < cps.size(); ++i) {
      char32_t c = cps[i];
      bool nl = c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D ||
                c == 0x1E || c == 0x85 || c == 0x2028 || c == 0x2029;
      if (!nl) continue;
      size_t end = i;
      if (c == '\r' && i + 1 < cps.size() && cps[i + 1] == '\n') ++i;
      lines.emplace_back(utf8_encode(cps.substr(start, (keep ? i + 1 : end) - start)), safe);
      start = i + 1;
    }
    if (start < cps.size()) lines.emplace_back(utf8_encode(cps.substr(start)), safe);
    *out = Value::list(std::move(lines));
    return true;
  }
  if (name == "partition" || name == "rpartition") {
    const std::string& sep = need_str(in, arg(a, 0, "sep"), "must be str").str();
    if (sep.empty()) in.fail("ValueError", "empty separator");
    size_t p = name == "partition" ? s.find(sep) : s.rfind(sep);
    std::vector<Value> parts;
    if (p == std::string::npos) {
      if (name == "partition")
        parts = {Value(s, safe), Value("", safe), Value("", safe)};
      else
        parts = {Value("", safe), Value("", safe), Value(s, safe)};
    } else {
      parts = {Value(s.substr(0, p), safe), Value(sep, safe),
               Value(s.substr(p + sep.size()), safe)};
    }
    *out = Value::list(std::move(parts), true);
    return true;
  }
  if (name == "removeprefix") {
    const std::string& p = need_str(in, arg(a, 0, "prefix"), "must be str").str();
    return ret_str(s.compare(0, p.size(), p) == 0 && s.size() >= p.size() ? s.substr(p.size()) : s);
  }
  if (name == "removesuffix") {
    const std::string& p = need_str(in, arg(a, 0, "suffix"), "must be str").str();
    bool hit =
        !p.empty() && s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
    return ret_str(hit ? s.substr(0, s.size() - p.size()) : s);
  }
  if (name == "expandtabs") {
    int64_t ts = arg(a, 0, "tabsize", Value(int64_t{8})).int_like();
    std::string r;
    int64_t col = 0;
    for (char32_t c : utf8_decode(s)) {
      if (c == '\t') {
        int64_t n = ts > 0 ? ts - (col % ts) : 0;
        r.append(n, ' ');
        col += n;
      } else {
        utf8_append(c, r);
        col = (c == '\n' || c == '\r') ? 0 : col + 1;
      }
    }
    return ret_str(std::move(r));
  }
  auto all_of = [&](auto pred) {
    std::u32string cps = utf8_decode(s);
    if (cps.empty()) return false;
    for (char32_t c : cps)
      if (!pred(c)) return false;
    return true;
  };
  if (name == "isdigit" || name == "isdecimal" || name == "isnumeric") {
    *out = Value(all_of([](char32_t c) { return py_isdigit(c); }));
    return true;
  }
  if (name == "isalpha") {
    *out = Value(all_of([](char32_t c) { return py_isalpha(c); }));
    return true;
  }
  if (name == "isalnum") {
    *out = Value(all_of([](char32_t c) { return py_isalpha(c) || py_isdigit(c); }));
    return true;
  }
  if (name == "isspace") {
    *out = Value(all_of([](char32_t c) { return py_isspace(c); }));
    return true;
  }
  if (name == "isascii") {
    *out = Value(is_ascii(s));
    return true;
  }
  if (name == "isprintable") {
    bool ok = true;
    for (char32_t c : utf8_decode(s)) ok = ok && py_isprintable(c);
    *out = Value(ok);
    return true;
  }
  if (name == "isidentifier") {
    std::u32string cps = utf8_decode(s);
    bool ok = !cps.empty() && !py_isdigit(cps[0]);
    for (char32_t c : cps) ok = ok && (py_isalpha(c) || py_isdigit(c) || c == '_' || c >= 0x80);
    *out = Value(ok);
    return true;
  }
  if (name == "islower" || name == "isupper") {
    bool cased = false, ok = true;
    for (char32_t c : utf8_decode(s)) {
      if (name == "islower" ? py_isupper(c) : py_islower(c)) ok = false;
      if (py_isupper(c) || py_islower(c)) cased = true;
    }
    *out = Value(ok && cased);
    return true;
  }
  if (name == "istitle") {
    bool cased = false;
    for (char32_t c : utf8_decode(s)) cased = cased || py_isupper(c);
    *out = Value(cased && py_title(s) == s);
    return true;
  }
  return false;
}

bool dict_method(Interpreter& in, const Value& self, const std::string& name, CallArgs& a,
                 Value* out) {
  const DictData& d = *self.dict_ptr();
  if (name == "get") {
    max_args(in, a, 2, "get");
    if (a.pos.empty()) in.fail("TypeError", "get expected at least 1 argument, got 0");
    const Value& key = a.pos[0];
    if ((key.is_list() && !key.is_tuple()) || key.is_dict())
      in.fail("TypeError", "unhashable type: '" + key.type_name() + "'");
    const Value* v = d.find(key);
    *out = v ? *v : (a.pos.size() > 1 ? a.pos[1] : Value::none());
    return true;
  }
  if (name == "items" || name == "keys" || name == "values") {
    max_args(in, a, 0, name.c_str());
    std::vector<Value> r;
    r.reserve(d.entries.size());
    for (const auto& [k, v] : d.entries) {
      if (name == "items")
        r.push_back(Value::list({k, v}, true));
      else
        r.push_back(name == "keys" ? k : v);
    }
    *out = Value::list(std::move(r));
    return true;
  }
  if (name == "copy") {
    auto c = std::make_shared<DictData>(d);
    *out = Value(std::move(c));
    return true;
  }
  return false;
}

bool list_method(Interpreter& in, const Value& self, const std::string& name, CallArgs& a,
                 Value* out) {
  const auto& items = self.items();
  if (name == "index" || name == "count") {
    if (a.pos.empty()) in.fail("TypeError", name + " expected at least 1 argument, got 0");
    int64_t n = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      if (!py_equal(items[i], a.pos[0])) continue;
      if (name == "index") {
        *out = Value(static_cast<int64_t>(i));
        return true;
      }
      ++n;
    }
    if (name == "index") in.fail("ValueError", py_repr(a.pos[0]) + " is not in list");
    *out = Value(n);
    return true;
  }
  if (name == "copy") {
    *out = Value::list(items, self.is_tuple());
    return true;
  }
  return false;
}

}  // namespace

bool call_method(Interpreter& in, const Value& obj, const std::string& name, CallArgs& args,
                 Value* out) {
  switch (obj.type()) {
    case Value::Type::kString:
      return str_method(in, obj, name, args, out);
    case Value::Type::kDict:
      if (in_list<kDictUnsafe>(name))
        in.fail("SecurityError", "access to attribute '" + name + "' of 'dict' object is unsafe.");
      return dict_method(in, obj, name, args, out);
    case Value::Type::kList:
      if (in_list<kListUnsafe>(name) && !obj.is_tuple())
        in.fail("SecurityError", "access to attribute '" + name + "' of 'list' object is unsafe.");
      return list_method(in, obj, name, args, out);
    case Value::Type::kFloat:
      if (name == "is_integer") {
        *out = Value(obj.as_float() == static_cast<double>(static_cast<int64_t>(obj.as_float())));
        return true;
      }
      return false;
    default:
      return false;
  }
}

bool find_method(const Value& obj, const std::string& name, Value* out) {
  bool known = false;
  const char* tname = "";
  switch (obj.type()) {
    case Value::Type::kString:
      known = in_list<kStrMethods>(name);
      break;
    case Value::Type::kDict:
      if (in_list<kDictUnsafe>(name)) {
        *out = Value::undefined("access to attribute '" + name + "' of 'dict' object is unsafe.",
                                true);
        return true;
      }
      known = in_list<kDictSafe>(name);
      tname = "dict";
      break;
    case Value::Type::kList:
      if (in_list<kListUnsafe>(name) && !obj.is_tuple()) {
        *out = Value::undefined("access to attribute '" + name + "' of 'list' object is unsafe.",
                                true);
        return true;
      }
      known = in_list<kListSafe>(name);
      break;
    case Value::Type::kInt:
    case Value::Type::kFloat:
    case Value::Type::kBool:
      known = in_list<kNumMethods>(name);
      break;
    default:
      break;
  }
  (void)tname;
  if (!known) return false;
  auto fn = std::make_shared<Callable>();
  fn->name = name;
  fn->kind = Callable::Kind::kMethod;
  Value self = obj;
  std::string n = name;
  fn->fn = [self, n](Interpreter& in, CallArgs& args) -> Value {
    Value r;
    if (!call_method(in, self, n, args, &r))
      in.fail("TypeError", "method '" + n + "' of '" + self.type_name() + "' is not supported");
    return r;
  };
  *out = Value(CallablePtr(std::move(fn)));
  return true;
}

}  // namespace sluice::jinja
