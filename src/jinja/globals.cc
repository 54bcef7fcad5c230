// Globals: jinja2's range / dict / namespace / joiner and Hugging Face's raise_exception and
// strftime_now (the clock can be pinned for reproducible renders).
#include <chrono>
#include <ctime>
#include <unordered_map>

#include "jinja/builtins.h"
#include "jinja/interpreter.h"

namespace sluice::jinja {

namespace {

Value g_range(Interpreter& in, CallArgs& a) {
  if (!a.kw.empty()) in.fail("TypeError", "range() takes no keyword arguments");
  if (a.pos.empty() || a.pos.size() > 3)
    in.fail("TypeError", "range expected at most 3 arguments, got " + std::to_string(a.pos.size()));
  for (const auto& v : a.pos) {
    if (v.is_undefined()) in.fail_undefined(v);
    if (!v.is_int() && !v.is_bool())
      in.fail("TypeError", "'" + v.type_name() + "' object cannot be interpreted as an integer");
  }
  int64_t start = 0, stop, step = 1;
  if (a.pos.size() == 1) {
    stop = a.pos[0].int_like();
  } else {
    start = a.pos[0].int_like();
    stop = a.pos[1].int_like();
    if (a.pos.size() == 3) step = a.pos[2].int_like();
  }
  if (step == 0) in.fail("ValueError", "range() arg 3 must not be zero");
  int64_t n = 0;
  if (step > 0 && start < stop) n = (stop - start + step - 1) / step;
  if (step < 0 && start > stop) n = (start - stop - step - 1) / (-step);
  if (n > in.limits().max_range)
    in.fail("OverflowError", "Range too big. The sandbox blocks ranges larger than MAX_RANGE (" +
                                 std::to_string(in.limits().max_range) + ").");
  std::vector<Value> items;
  items.reserve(n);
  for (int64_t i = 0; i < n; ++i) items.emplace_back(start + i * step);
  return Value::list(std::move(items));
}

// dict(*args, **kwargs) as Python builds it: a mapping or an iterable of pairs, then keywords.
void fill_mapping(Interpreter& in, CallArgs& a, const char* fname,
                  std::vector<std::pair<Value, Value>>* out) {
  if (a.pos.size() > 1)
    in.fail("TypeError", std::string(fname) + " expected at most 1 argument, got " +
                             std::to_string(a.pos.size()));
  auto put = [&](Value k, Value v) {
    for (auto& e : *out)
      if (py_equal(e.first, k)) {
        e.second = std::move(v);
        return;
      }
    out->emplace_back(std::move(k), std::move(v));
  };
  if (!a.pos.empty()) {
    const Value& src = a.pos[0];
    if (src.is_dict()) {
      for (const auto& [k, v] : src.dict_ptr()->entries) put(k, v);
    } else {
      for (const auto& pair : in.iterate(src)) {
        std::vector<Value> kv = in.iterate(pair);
        if (kv.size() != 2)
          in.fail("ValueError", "dictionary update sequence element has length " +
                                    std::to_string(kv.size()) + "; 2 is required");
        put(kv[0], kv[1]);
      }
    }
  }
  for (auto& [k, v] : a.kw) put(Value(k), v);
}

Value g_dict(Interpreter& in, CallArgs& a) {
  auto d = std::make_shared<DictData>();
  fill_mapping(in, a, "dict", &d->entries);
  return Value(std::move(d));
}

Value g_namespace(Interpreter& in, CallArgs& a) {
  std::vector<std::pair<Value, Value>> entries;
  fill_mapping(in, a, "namespace", &entries);
  auto ns = std::make_shared<NamespaceData>();
  for (auto& [k, v] : entries) {
    if (!k.is_string()) in.fail("TypeError", "keywords must be strings");
    ns->set(k.str(), std::move(v));
  }
  return Value(std::move(ns));
}

Value g_joiner(Interpreter& in, CallArgs& a) {
  std::string sep = ", ";
  if (!a.pos.empty()) sep = py_str(a.pos[0]);
  for (auto& [k, v] : a.kw)
    if (k == "sep") sep = py_str(v);
  auto used = std::make_shared<bool>(false);
  auto fn = std::make_shared<Callable>();
  fn->name = "joiner";
  fn->fn = [sep, used](Interpreter&, CallArgs&) -> Value {
    if (!*used) {
      *used = true;
      return Value(std::string());
    }
    return Value(sep);
  };
  return Value(CallablePtr(std::move(fn)));
}

Value g_raise_exception(Interpreter& in, CallArgs& a) {
  std::string msg;
  if (!a.pos.empty()) msg = py_str(a.pos[0]);
  for (auto& [k, v] : a.kw)
    if (k == "message") msg = py_str(v);
  in.fail("TemplateError", msg);
}

Value g_strftime_now(Interpreter& in, CallArgs& a) {
  if (a.pos.size() != 1 || !a.pos[0].is_string())
    in.fail("TypeError", "strftime_now() takes exactly one string argument");
  std::tm tm{};
  if (in.fixed_now()) {
    tm = *in.fixed_now();
  } else {
    std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    localtime_r(&t, &tm);
  }
  const std::string& fmt = a.pos[0].str();
  if (fmt.empty()) return Value(std::string());
  std::string buf(256 + fmt.size() * 8, '\0');
  size_t n = std::strftime(buf.data(), buf.size(), fmt.c_str(), &tm);
  buf.resize(n);
  return Value(std::move(buf));
}

using GlobalFn = Value (*)(Interpreter&, CallArgs&);

const std::unordered_map<std::string_view, Value>& global_table() {
  static const std::unordered_map<std::string_view, Value> table = [] {
    std::unordered_map<std::string_view, Value> t;
    auto add = [&](std::string_view name, GlobalFn f) {
      auto c = std::make_shared<Callable>();
      c->name = std::string(name);
      c->fn = f;
      t.emplace(name, Value(CallablePtr(std::move(c))));
    };
    add("range", g_range);
    add("dict", g_dict);
    add("namespace", g_namespace);
    add("joiner", g_joiner);
    add("raise_exception", g_raise_exception);
    add("strftime_now", g_strftime_now);
    return t;
  }();
  return table;
}

}  // namespace

bool find_global(std::string_view name, Value* out) {
  const auto& t = global_table();
  auto it = t.find(name);
  if (it == t.end()) return false;
  *out = it->second;
  return true;
}

}  // namespace sluice::jinja
