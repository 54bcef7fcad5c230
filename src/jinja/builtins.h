#pragma once
// Registries of jinja2's builtin filters and tests, and the Python methods templates may call
// on str / dict / list values (the ImmutableSandboxedEnvironment's allowed subset).
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "jinja/ast.h"

namespace sluice::jinja {

FilterFn find_filter(std::string_view name);
TestFn find_test(std::string_view name);

// Globals of the environment: range, dict, namespace, joiner, and Hugging Face's raise_exception
// and strftime_now. False if `name` is no global.
bool find_global(std::string_view name, Value* out);

// Binds call arguments to a Python-style signature; missing ones stay Undefined (given=false).
struct BoundArgs {
  std::vector<Value> v;
  std::vector<bool> given;
  const Value& operator[](size_t i) const { return v[i]; }
  bool has(size_t i) const { return given[i]; }
};
BoundArgs bind_args(Interpreter& in, const char* fname, CallArgs& args,
                    std::initializer_list<const char*> names);

// obj.name as jinja2's sandboxed getattr sees it for builtin types: a bound method, or an
// unsafe-undefined for mutating methods; returns false if `name` is no method of obj's type.
bool find_method(const Value& obj, const std::string& name, Value* out);
// Calls obj.name(args) directly (no bound-method object); false if no such method.
bool call_method(Interpreter& in, const Value& obj, const std::string& name, CallArgs& args,
                 Value* out);

}  // namespace sluice::jinja
