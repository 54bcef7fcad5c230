// jinja2's builtin filters: argument binding, the generic filters (attr, default) and the table
// of all filters (string_filters.cc, collection_filters.cc).
#include "jinja/filters.h"

#include "jinja/builtins.h"
#include "jinja/interpreter.h"

namespace sluice::jinja {

BoundArgs bind_args(Interpreter& in, const char* fname, CallArgs& args,
                    std::initializer_list<const char*> names) {
  BoundArgs b;
  b.v.resize(names.size());
  b.given.assign(names.size(), false);
  if (args.pos.size() > names.size())
    in.fail("TypeError", std::string(fname) + "() takes at most " + std::to_string(names.size()) +
                             " argument(s)");
  for (size_t i = 0; i < args.pos.size(); ++i) {
    b.v[i] = args.pos[i];
    b.given[i] = true;
  }
  for (auto& [k, val] : args.kw) {
    size_t idx = 0;
    bool found = false;
    for (const char* n : names) {
      if (k == n) {
        found = true;
        break;
      }
      ++idx;
    }
    if (!found)
      in.fail("TypeError",
              std::string(fname) + "() got an unexpected keyword argument '" + k + "'");
    if (b.given[idx])
      in.fail("TypeError", std::string(fname) + "() got multiple values for argument '" + k + "'");
    b.v[idx] = val;
    b.given[idx] = true;
  }
  return b;
}

int64_t as_int_arg(Interpreter& in, const Value& v, const char* what) {
  if (v.is_int() || v.is_bool()) return v.int_like();
  if (v.is_undefined()) in.fail_undefined(v);
  in.fail("TypeError", std::string("'") + v.type_name() +
                           "' object cannot be interpreted as an "
                           "integer (" +
                           what + ")");
}

namespace {

Value f_attr(Interpreter& in, const Value& v, CallArgs& a) {
  BoundArgs b = bind_args(in, "attr", a, {"name"});
  if (!b[0].is_string()) in.fail("TypeError", "attribute name must be string");
  const std::string& name = b[0].str();
  if (v.is_undefined()) in.fail_undefined(v);
  Value m;
  if (v.is_namespace()) {
    if (const Value* x = v.ns()->find(name)) return *x;
  } else if (v.is_loop()) {
    return in.getattr(v, name);
  } else if (find_method(v, name, &m)) {
    return m;
  }
  return Value::undefined("'" + object_type_repr(v) + "' has no attribute '" + name + "'");
}

Value f_default(Interpreter& in, const Value& v, CallArgs& a) {
  BoundArgs b = bind_args(in, "default", a, {"default_value", "boolean"});
  if (v.is_undefined() || (b.has(1) && b[1].truthy() && !v.truthy()))
    return b.has(0) ? b[0] : Value(std::string());
  return v;
}

const FilterTable& filter_table() {
  static const FilterTable table = [] {
    FilterTable t = {
        {"attr", f_attr},
        {"d", f_default},
        {"default", f_default},
    };
    add_string_filters(t);
    add_collection_filters(t);
    return t;
  }();
  return table;
}

}  // namespace

FilterFn find_filter(std::string_view name) {
  const auto& t = filter_table();
  auto it = t.find(name);
  return it == t.end() ? nullptr : it->second;
}

}  // namespace sluice::jinja
