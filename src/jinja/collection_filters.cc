// jinja2's filters over lists, dicts and iterables (Python semantics): map, select, sort, ...
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "jinja/builtins.h"
#include "jinja/filters.h"
#include "jinja/interpreter.h"
#include "jinja/operators.h"
#include "jinja/unicode.h"

namespace sluice::jinja {

namespace {

size_t py_len(Interpreter& in, const Value& v) {
  switch (v.type()) {
    case Value::Type::kString:
      return utf8_length(v.str());
    case Value::Type::kList:
      return v.items().size();
    case Value::Type::kDict:
      return v.dict_ptr()->entries.size();
    case Value::Type::kUndefined:
      return 0;
    case Value::Type::kLoop:
      return static_cast<size_t>(v.loop()->length);
    default:
      in.fail("TypeError", "object of type '" + v.type_name() + "' has no len()");
  }
}

// make_attrgetter: "a.b.0" paths looked up with getitem; integers as integers.
Value get_path(Interpreter& in, const Value& item, const Value& attribute) {
  if (attribute.is_none() || attribute.is_undefined()) return item;
  if (!attribute.is_string()) return in.getitem(item, attribute);
  Value cur = item;
  const std::string& path = attribute.str();
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool digits = !part.empty() && std::all_of(part.begin(), part.end(),
                                               [](char c) { return c >= '0' && c <= '9'; });
    cur = digits ? in.getitem(cur,
                              Value(static_cast<int64_t>(std::strtoll(part.c_str(), nullptr, 10))))
                 : in.getitem(cur, Value(part));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return cur;
}

Value ignore_case(const Value& v) {
  if (v.is_string()) return Value(str_lower(v.str()));
  return v;
}

Value f_batch(Interpreter& in, const Value& v, CallArgs& a) {
  BoundArgs b = bind_args(in, "batch", a, {"linecount", "fill_with"});
  int64_t n = as_int_arg(in, b[0], "linecount");
  std::vector<Value> out, tmp;
  for (auto& item : in.iterate(v)) {
    if (static_cast<int64_t>(tmp.size()) == n) {
      out.push_back(Value::list(std::move(tmp)));
      tmp.clear();
    }
    tmp.push_back(item);
  }
  if (!tmp.empty()) {
    if (b.has(1) && !b[1].is_none())
      while (static_cast<int64_t>(tmp.size()) < n) tmp.push_back(b[1]);
    out.push_back(Value::list(std::move(tmp)));
  }
  return Value::iterator(std::move(out));
}

Value f_dictsort(Interpreter& in, const Value& v, CallArgs& a) {
  BoundArgs b = bind_args(in, "dictsort", a, {"case_sensitive", "by", "reverse"});
  if (!v.is_dict()) {
    if (v.is_undefined()) in.fail_undefined(v);
    in.fail("AttributeError", "'" + v.type_name() + "' object has no attribute 'items'");
  }
  bool cs = b.has(0) && b[0].truthy();
  int pos = 0;
  if (b.has(1)) {
    if (b[1].is_string() && b[1].str() == "value")
      pos = 1;
    else if (!(b[1].is_string() && b[1].str() == "key"))
      in.fail("FilterArgumentError", "You can only sort by either \"key\" or \"value\"");
  }
  bool rev = b.has(2) && b[2].truthy();
  std::vector<std::pair<Value, Value>> entries = v.dict_ptr()->entries;
  auto key = [&](const std::pair<Value, Value>& e) {
    const Value& x = pos == 0 ? e.first : e.second;
    return cs ? x : ignore_case(x);
  };
  std::stable_sort(entries.begin(), entries.end(), [&](const auto& x, const auto& y) {
    return rev ? py_less(in, key(y), key(x)) : py_less(in, key(x), key(y));
  });
  std::vector<Value> out;
  for (auto& [k, val] : entries) out.push_back(Value::list({k, val}, true));
  return Value::list(std::move(out));
}

Value f_first(Interpreter& in, const Value& v, CallArgs& a) {
  bind_args(in, "first", a, {});
  if (v.is_list() && !v.items().empty()) return v.items()[0];
  std::vector<Value> items = in.iterate(v);
  if (items.empty()) return Value::undefined("No first item, sequence was empty.");
  return items[0];
}

Value f_last(Interpreter& in, const Value& v, CallArgs& a) {
  bind_args(in, "last", a, {});
  if (v.is_iterator()) in.fail("TypeError", "'" + v.type_name() + "' object is not reversible");
  if (v.is_list() && !v.items().empty()) return v.items().back();
  std::vector<Value> items = in.iterate(v);
  if (items.empty()) return Value::undefined("No last item, sequence was empty.");
  return items.back();
}

Value f_items(Interpreter& in, const Value& v, CallArgs& a) {
  bind_args(in, "items", a, {});
  if (v.is_undefined()) return Value::iterator({});
  if (!v.is_dict()) in.fail("TypeError", "Can only get item pairs from a mapping.");
  std::vector<Value> out;
  out.reserve(v.dict_ptr()->entries.size());
  for (const auto& [k, val] : v.dict_ptr()->entries) out.push_back(Value::list({k, val}, true));
  return Value::iterator(std::move(out));
}

Value f_join(Interpreter& in, const Value& v, CallArgs& a) {
  BoundArgs b = bind_args(in, "join", a, {"d", "attribute"});
  std::string sep = b.has(0) ? py_str(b[0]) : std::string();
  std::string out;
  bool first = true;
  for (const auto& item : in.iterate(v)) {
    if (!first) out += sep;
    first = false;
    append_str(b.has(1) ? get_path(in, item, b[1]) : item, out);
    in.check_string_size(out.size());
  }
  return Value(std::move(out));
}

Value f_length(Interpreter& in, const Value& v, CallArgs& a) {
  bind_args(in, "length", a, {});
  return Value(static_cast<int64_t>(py_len(in, v)));
}

Value f_list(Interpreter& in, const Value& v, CallArgs& a) {
  bind_args(in, "list", a, {});
  return Value::list(in.iterate(v));
}

Value f_map(Interpreter& in, const Value& v, CallArgs& a) {
  std::vector<Value> items = in.iterate(v);
  std::vector<Value> out;
  out.reserve(items.size());
  if (a.pos.empty()) {
    Value attribute, def;
    bool has_attr = false, has_def = false;
    for (auto& [k, val] : a.kw) {
      if (k == "attribute") {
        attribute = val;
        has_attr = true;
      } else if (k == "default") {
        def = val;
        has_def = true;
      } else {
        in.fail("FilterArgumentError", "Unexpected keyword argument '" + k + "'");
      }
    }
    if (!has_attr) in.fail("FilterArgumentError", "map requires a filter argument");
    for (const auto& item : items) {
      Value x = get_path(in, item, attribute);
      if (has_def && !def.is_none() && x.is_undefined()) x = def;
      out.push_back(std::move(x));
    }
    return Value::iterator(std::move(out));
  }
  if (!a.pos[0].is_string()) in.fail("TypeError", "map filter name must be a string");
  std::string name = a.pos[0].str();
  CallArgs rest;
  rest.pos.assign(a.pos.begin() + 1, a.pos.end());
  rest.kw = a.kw;
  for (const auto& item : items) {
    CallArgs copy = rest;
    out.push_back(in.apply_filter(name, item, copy));
  }
  return Value::iterator(std::move(out));
}

Value select_impl(Interpreter& in, const Value& v, CallArgs& a, bool want, bool by_attr) {
  if (!v.truthy()) return Value::iterator({});
  size_t off = 0;
  Value attr;
  if (by_attr) {
    if (a.pos.empty()) in.fail("FilterArgumentError", "Missing parameter for attribute name");
    attr = a.pos[0];
    off = 1;
  }
  bool has_test = a.pos.size() > off;
  std::string test_name;
  CallArgs rest;
  if (has_test) {
    if (!a.pos[off].is_string()) in.fail("TypeError", "test name must be a string");
    test_name = a.pos[off].str();
    rest.pos.assign(a.pos.begin() + off + 1, a.pos.end());
  }
  rest.kw = a.kw;
  std::vector<Value> out;
  for (const auto& item : in.iterate(v)) {
    Value x = by_attr ? get_path(in, item, attr) : item;
    bool ok;
    if (has_test) {
      CallArgs copy = rest;
      ok = in.apply_test(test_name, x, copy);
    } else {
      ok = x.truthy();
    }
    if (ok == want) out.push_back(item);
  }
  return Value::iterator(std::move(out));
}

Value f_select(Interpreter& in, const Value& v, CallArgs& a) {
  return select_impl(in, v, a, true, false);
}

Value f_reject(Interpreter& in, const Value& v, CallArgs& a) {
  return select_impl(in, v, a, false, false);
}

Value f_selectattr(Interpreter& in, const Value& v, CallArgs& a) {
  return select_impl(in, v, a, true, true);
}

Value f_rejectattr(Interpreter& in, const Value& v, CallArgs& a) {
  return select_impl(in, v, a, false, true);
}

Value min_max(Interpreter& in, const Value& v, CallArgs& a, bool want_max) {
  BoundArgs b = bind_args(in, want_max ? "max" : "min", a, {"case_sensitive", "attribute"});
  std::vector<Value> items = in.iterate(v);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  bool cs = b.has(0) && b[0].truthy();
  auto key = [&](const Value& x) {
    Value k = b.has(1) ? get_path(in, x, b[1]) : x;
    return cs ? k : ignore_case(k);
  };
  size_t best = 0;
  Value best_key = key(items[0]);
  for (size_t i = 1; i < items.size(); ++i) {
    Value k = key(items[i]);
    if (want_max ? py_less(in, best_key, k) : py_less(in, k, best_key)) {
      best = i;
      best_key = k;
    }
  }
  return items[best];
}

Value f_max(Interpreter& in, const Value& v, CallArgs& a) {
  return min_max(in, v, a, true);
}

Value f_min(Interpreter& in, const Value& v, CallArgs& a) {
  return min_max(in, v, a, false);
}

Value f_reverse(Interpreter& in, const Value& v, CallArgs& a) {
  bind_args(in, "reverse", a, {});
  if (v.is_string()) {
    std::u32string cps = utf8_decode(v.str());
    std::reverse(cps.begin(), cps.end());
    return Value(utf8_encode(cps), v.is_safe());
  }
  if (v.is_iterator()) {
    std::vector<Value> items = in.iterate(v);
    std::reverse(items.begin(), items.end());
    return Value::list(std::move(items));
  }
  if (!v.is_list() && !v.is_dict()) in.fail("FilterArgumentError", "argument must be iterable");
  std::vector<Value> items = in.iterate(v);
  std::reverse(items.begin(), items.end());
  return Value::iterator(std::move(items),
                         v.is_dict() ? "dict_reversekeyiterator" : "list_reverseiterator");
}

Value f_slice(Interpreter& in, const Value& v, CallArgs& a) {
  BoundArgs b = bind_args(in, "slice", a, {"slices", "fill_with"});
  int64_t slices = as_int_arg(in, b[0], "slices");
  if (slices <= 0) in.fail("ZeroDivisionError", "integer division or modulo by zero");
  std::vector<Value> seq = in.iterate(v);
  int64_t length = static_cast<int64_t>(seq.size());
  int64_t per = length / slices, extra = length % slices, offset = 0;
  std::vector<Value> out;
  for (int64_t i = 0; i < slices; ++i) {
    int64_t start = offset + i * per;
    if (i < extra) ++offset;
    int64_t end = offset + (i + 1) * per;
    std::vector<Value> tmp(seq.begin() + start, seq.begin() + end);
    if (b.has(1) && !b[1].is_none() && i >= extra) tmp.push_back(b[1]);
    out.push_back(Value::list(std::move(tmp)));
  }
  return Value::iterator(std::move(out));
}

Value f_sort(Interpreter& in, const Value& v, CallArgs& a) {
  BoundArgs b = bind_args(in, "sort", a, {"reverse", "case_sensitive", "attribute"});
  bool rev = b.has(0) && b[0].truthy();
  bool cs = b.has(1) && b[1].truthy();
  std::vector<Value> items = in.iterate(v);
  std::vector<std::string> attrs;
  if (b.has(2) && b[2].is_string()) {
    for (auto& part : py_split(b[2].str(), Value(","), -1, false)) attrs.push_back(part);
  }
  auto key = [&](const Value& x) -> Value {
    if (!b.has(2) || b[2].is_none()) return cs ? x : ignore_case(x);
    if (!b[2].is_string()) {
      Value k = get_path(in, x, b[2]);
      return cs ? k : ignore_case(k);
    }
    std::vector<Value> ks;
    for (const auto& attr : attrs) {
      Value k = get_path(in, x, Value(attr));
      ks.push_back(cs ? k : ignore_case(k));
    }
    return Value::list(std::move(ks));
  };
  std::vector<std::pair<Value, Value>> keyed;
  keyed.reserve(items.size());
  for (auto& item : items) keyed.emplace_back(key(item), item);
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
    return rev ? py_less(in, y.first, x.first) : py_less(in, x.first, y.first);
  });
  std::vector<Value> out;
  for (auto& [k, item] : keyed) out.push_back(std::move(item));
  return Value::list(std::move(out));
}

Value f_sum(Interpreter& in, const Value& v, CallArgs& a) {
  BoundArgs b = bind_args(in, "sum", a, {"attribute", "start"});
  Value total = b.has(1) ? b[1] : Value(int64_t{0});
  if (total.is_string()) in.fail("TypeError", "sum() can't sum strings [use ''.join(seq) instead]");
  for (const auto& item : in.iterate(v)) {
    Value x = (b.has(0) && !b[0].is_none()) ? get_path(in, item, b[0]) : item;
    total = binary_op(in, BinOp::kAdd, total, x);
  }
  return total;
}

Value f_unique(Interpreter& in, const Value& v, CallArgs& a) {
  BoundArgs b = bind_args(in, "unique", a, {"case_sensitive", "attribute"});
  bool cs = b.has(0) && b[0].truthy();
  std::vector<Value> seen, out;
  for (const auto& item : in.iterate(v)) {
    Value k = b.has(1) ? get_path(in, item, b[1]) : item;
    if (!cs) k = ignore_case(k);
    if ((k.is_list() && !k.is_tuple()) || k.is_dict())
      in.fail("TypeError", "unhashable type: '" + k.type_name() + "'");
    bool dup = false;
    for (const auto& s : seen)
      if (py_equal(s, k)) dup = true;
    if (!dup) {
      seen.push_back(k);
      out.push_back(item);
    }
  }
  return Value::iterator(std::move(out));
}

}  // namespace

void add_collection_filters(FilterTable& table) {
  table.insert({
      {"batch", f_batch},
      {"count", f_length},
      {"dictsort", f_dictsort},
      {"first", f_first},
      {"items", f_items},
      {"join", f_join},
      {"last", f_last},
      {"length", f_length},
      {"list", f_list},
      {"map", f_map},
      {"max", f_max},
      {"min", f_min},
      {"reject", f_reject},
      {"rejectattr", f_rejectattr},
      {"reverse", f_reverse},
      {"select", f_select},
      {"selectattr", f_selectattr},
      {"slice", f_slice},
      {"sort", f_sort},
      {"sum", f_sum},
      {"unique", f_unique},
  });
}

}  // namespace sluice::jinja
