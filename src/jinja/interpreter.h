#pragma once
// Tree-walking evaluator. Scoping as jinja2 compiles it: {% if %} shares its scope, every
// {% for %} iteration gets a fresh child scope, macros run in a child of the scope they were
// defined in (late binding). Work is bounded: output size, loop iterations, call depth.
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jinja/ast.h"
#include "jinja/error.h"
#include "jinja/value.h"

namespace sluice::jinja {

struct Scope;
using ScopePtr = std::shared_ptr<Scope>;

struct Scope {
  ScopePtr parent;
  std::vector<std::pair<std::string, Value>> vars;

  explicit Scope(ScopePtr p = nullptr) : parent(std::move(p)) {}
  const Value* find(std::string_view name) const;
  void set(const std::string& name, Value value);
};

// The `loop` object of a for loop.
struct LoopState {
  std::shared_ptr<const std::vector<Value>> items;
  int64_t index0 = 0;
  int64_t length = 0;
  int64_t depth0 = 0;
  const Stmt* stmt = nullptr;  // for recursive loops: loop(items)
  std::weak_ptr<Scope> scope;  // the scope the loop runs in
  std::optional<Value> last_changed;
};

struct Limits {
  size_t max_output_bytes = 64u << 20;
  size_t max_string_bytes = 64u << 20;
  int64_t max_loop_iterations = 5'000'000;  // loop iterations + macro calls, one render
  int max_call_depth = 200;                 // nested macro / recursive-loop calls
  int64_t max_range = 100'000;              // jinja2's sandbox MAX_RANGE
};

class Interpreter {
 public:
  Interpreter(const Limits& limits, std::optional<std::tm> fixed_now)
      : limits_(limits), fixed_now_(fixed_now) {}
  ~Interpreter();

  // Renders a parsed template with `root` holding the context variables.
  std::string render(const Body& body, const ScopePtr& root);

  Value eval(const Expr& e, const ScopePtr& scope);
  Value call(const Value& callee, CallArgs& args);
  Value getattr(const Value& obj, const std::string& name);
  Value getitem(const Value& obj, const Value& key);
  // Python iteration: list items, dict keys, string characters; Undefined is empty.
  std::vector<Value> iterate(const Value& v);
  [[noreturn]] void fail_undefined(const Value& u);
  [[noreturn]] void fail(const std::string& kind, const std::string& msg);
  void check_string_size(size_t n);

  Value apply_filter(const std::string& name, const Value& input, CallArgs& args);
  bool apply_test(const std::string& name, const Value& input, CallArgs& args);

  const std::optional<std::tm>& fixed_now() const { return fixed_now_; }
  const Limits& limits() const { return limits_; }
  int line() const { return line_; }

 private:
  enum class Flow { kNormal, kBreak, kContinue };
  Flow exec(const Body& body, const ScopePtr& scope, std::string& out);
  Flow exec_stmt(const Stmt& s, const ScopePtr& scope, std::string& out);
  void exec_for(const Stmt& s, const ScopePtr& scope, std::string& out);
  void run_loop(const Stmt& s, std::shared_ptr<const std::vector<Value>> items,
                const ScopePtr& scope, int64_t depth0, std::string& out);
  void assign(const Expr& target, Value value, const ScopePtr& scope);
  Value make_macro(const Stmt& s, const ScopePtr& scope);
  Value call_macro(const Stmt& m, const ScopePtr& closure, CallArgs& args, const Value* caller);
  Value eval_call(const Expr& e, const ScopePtr& scope);
  void eval_args(const Expr& e, const ScopePtr& scope, CallArgs& args);
  Value eval_filter(const Expr& e, const ScopePtr& scope, const Value* input);
  Value loop_attr(const LoopPtr& loop, const std::string& name);
  void append_output(std::string& out, const Value& v);
  Value lookup(const std::string& name, const ScopePtr& scope);

  Limits limits_;
  std::optional<std::tm> fixed_now_;
  int line_ = 0;
  int call_depth_ = 0;
  int64_t iterations_ = 0;
  std::vector<ScopePtr> closures_;  // scopes captured by macros: cleared after render (cycles)
};

}  // namespace sluice::jinja
