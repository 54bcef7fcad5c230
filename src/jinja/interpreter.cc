#include "jinja/interpreter.h"

#include "jinja/builtins.h"
#include "jinja/operators.h"

namespace sluice::jinja {

const Value* Scope::find(std::string_view name) const {
  for (const Scope* s = this; s; s = s->parent.get())
    for (const auto& [k, v] : s->vars)
      if (k == name) return &v;
  return nullptr;
}

void Scope::set(const std::string& name, Value value) {
  for (auto& [k, v] : vars) {
    if (k == name) {
      v = std::move(value);
      return;
    }
  }
  vars.emplace_back(name, std::move(value));
}

Interpreter::~Interpreter() {
  for (auto& s : closures_) s->vars.clear();
}

void Interpreter::fail(const std::string& kind, const std::string& msg) {
  throw TemplateError(kind, msg, line_);
}

void Interpreter::fail_undefined(const Value& u) {
  const Undefined& d = u.undef();
  std::string msg = d.hint ? *d.hint : "undefined value";
  fail(d.unsafe ? "SecurityError" : "UndefinedError", msg);
}

void Interpreter::check_string_size(size_t n) {
  if (n > limits_.max_string_bytes) fail("MemoryError", "string too large");
}

std::string Interpreter::render(const Body& body, const ScopePtr& root) {
  std::string out;
  exec(body, root, out);
  closures_.push_back(root);
  return out;
}

Interpreter::Flow Interpreter::exec(const Body& body, const ScopePtr& scope, std::string& out) {
  for (const auto& s : body) {
    Flow f = exec_stmt(*s, scope, out);
    if (f != Flow::kNormal) return f;
  }
  return Flow::kNormal;
}

void Interpreter::append_output(std::string& out, const Value& v) {
  if (v.is_string()) {
    out += v.str();
  } else {
    append_str(v, out);
  }
  if (out.size() > limits_.max_output_bytes) fail("MemoryError", "rendered output too large");
}

Interpreter::Flow Interpreter::exec_stmt(const Stmt& s, const ScopePtr& scope, std::string& out) {
  line_ = s.line;
  switch (s.kind) {
    case StmtKind::kText:
      out += s.text;
      if (out.size() > limits_.max_output_bytes) fail("MemoryError", "rendered output too large");
      return Flow::kNormal;
    case StmtKind::kOutput:
      append_output(out, eval(*s.expr, scope));
      return Flow::kNormal;
    case StmtKind::kIf:
      for (const auto& [test, body] : s.branches) {
        if (eval(*test, scope).truthy()) return exec(body, scope, out);
      }
      return exec(s.else_body, scope, out);
    case StmtKind::kFor:
      exec_for(s, scope, out);
      return Flow::kNormal;
    case StmtKind::kSet:
      assign(*s.target, eval(*s.expr, scope), scope);
      return Flow::kNormal;
    case StmtKind::kSetBlock: {
      std::string buf;
      exec(s.body, std::make_shared<Scope>(scope), buf);
      Value v(std::move(buf));
      if (s.expr) v = eval_filter(*s.expr, scope, &v);
      assign(*s.target, std::move(v), scope);
      return Flow::kNormal;
    }
    case StmtKind::kMacro:
      scope->set(s.name, make_macro(s, scope));
      return Flow::kNormal;
    case StmtKind::kCallBlock: {
      // caller() renders the block body; the call's own arguments are evaluated as usual.
      closures_.push_back(scope);
      auto caller_fn = std::make_shared<Callable>();
      caller_fn->name = "caller";
      caller_fn->kind = Callable::Kind::kMacro;
      const Stmt* stmt = &s;
      ScopePtr closure = scope;
      caller_fn->fn = [this, stmt, closure](Interpreter&, CallArgs& args) {
        return call_macro(*stmt, closure, args, nullptr);
      };
      Value caller(CallablePtr(std::move(caller_fn)));
      const Expr& call = *s.expr;
      Value callee =
          call.a->kind == ExprKind::kName ? lookup(call.a->name, scope) : eval(*call.a, scope);
      CallArgs args;
      eval_args(call, scope, args);
      args.kw.emplace_back("caller", caller);
      line_ = s.line;
      append_output(out, this->call(callee, args));
      return Flow::kNormal;
    }
    case StmtKind::kFilterBlock: {
      std::string buf;
      exec(s.body, std::make_shared<Scope>(scope), buf);
      Value v(std::move(buf));
      append_output(out, eval_filter(*s.expr, scope, &v));
      return Flow::kNormal;
    }
    case StmtKind::kWith: {
      auto inner = std::make_shared<Scope>(scope);
      std::vector<Value> values;
      for (const auto& v : s.values) values.push_back(eval(*v, scope));
      for (size_t i = 0; i < s.targets.size(); ++i) assign(*s.targets[i], values[i], inner);
      return exec(s.body, inner, out);
    }
    case StmtKind::kBreak:
      return Flow::kBreak;
    case StmtKind::kContinue:
      return Flow::kContinue;
    case StmtKind::kScope:
      return exec(s.body, scope, out);
    case StmtKind::kUnsupported:
      fail("TemplateRuntimeError",
           "no loader for this environment specified ('" + s.text + "' is not supported)");
  }
  return Flow::kNormal;
}

void Interpreter::assign(const Expr& target, Value value, const ScopePtr& scope) {
  if (target.kind == ExprKind::kName) {
    scope->set(target.name, std::move(value));
    return;
  }
  if (target.kind == ExprKind::kNSRef) {
    const Value* ns = scope->find(target.name);
    if (!ns || !ns->is_namespace())
      fail("TemplateRuntimeError", "cannot assign attribute on non-namespace object");
    ns->ns()->set(target.attr, std::move(value));
    return;
  }
  // tuple unpacking
  std::vector<Value> items = iterate(value);
  size_t n = target.items.size();
  if (items.size() < n)
    fail("ValueError", "not enough values to unpack (expected " + std::to_string(n) + ", got " +
                           std::to_string(items.size()) + ")");
  if (items.size() > n)
    fail("ValueError", "too many values to unpack (expected " + std::to_string(n) + ")");
  for (size_t i = 0; i < n; ++i) assign(*target.items[i], std::move(items[i]), scope);
}

void Interpreter::exec_for(const Stmt& s, const ScopePtr& scope, std::string& out) {
  Value iterable = eval(*s.expr, scope);
  if (iterable.is_list() && !s.cond) {  // lists are immutable: iterate them in place
    const ListPtr& l = iterable.list_ptr();
    run_loop(s, std::shared_ptr<const std::vector<Value>>(l, &l->items), scope, 0, out);
    return;
  }
  std::vector<Value> items = iterate(iterable);
  if (s.cond) {
    std::vector<Value> kept;
    for (auto& item : items) {
      auto tmp = std::make_shared<Scope>(scope);
      assign(*s.target, item, tmp);
      if (eval(*s.cond, tmp).truthy()) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  run_loop(s, std::make_shared<const std::vector<Value>>(std::move(items)), scope, 0, out);
}

void Interpreter::run_loop(const Stmt& s, std::shared_ptr<const std::vector<Value>> items,
                           const ScopePtr& scope, int64_t depth0, std::string& out) {
  if (items->empty()) {
    if (!s.else_body.empty()) exec(s.else_body, std::make_shared<Scope>(scope), out);
    return;
  }
  auto loop = std::make_shared<LoopState>();
  loop->length = static_cast<int64_t>(items->size());
  loop->items = std::move(items);
  loop->depth0 = depth0;
  loop->stmt = &s;
  loop->scope = scope;
  Value loop_value(loop);
  ScopePtr iter_scope;
  for (int64_t i = 0; i < loop->length; ++i) {
    if (++iterations_ > limits_.max_loop_iterations)
      fail("RuntimeError", "too many loop iterations");
    loop->index0 = i;
    if (iter_scope && iter_scope.use_count() == 1) {
      iter_scope->vars.clear();  // nothing kept the previous iteration's scope: reuse it
    } else {
      iter_scope = std::make_shared<Scope>(scope);
      iter_scope->vars.reserve(4);
    }
    assign(*s.target, (*loop->items)[i], iter_scope);
    iter_scope->set("loop", loop_value);
    Flow f = exec(s.body, iter_scope, out);
    if (f == Flow::kBreak) break;
  }
}

Value Interpreter::make_macro(const Stmt& s, const ScopePtr& scope) {
  closures_.push_back(scope);
  auto fn = std::make_shared<Callable>();
  fn->name = s.name;
  fn->kind = Callable::Kind::kMacro;
  const Stmt* stmt = &s;
  ScopePtr closure = scope;
  fn->fn = [this, stmt, closure](Interpreter&, CallArgs& args) {
    const Value* caller = nullptr;
    Value caller_value;
    for (auto it = args.kw.begin(); it != args.kw.end(); ++it) {
      if (it->first == "caller" && stmt->uses_caller) {
        caller_value = it->second;
        caller = &caller_value;
        args.kw.erase(it);
        break;
      }
    }
    return call_macro(*stmt, closure, args, caller);
  };
  return Value(CallablePtr(std::move(fn)));
}

Value Interpreter::call_macro(const Stmt& m, const ScopePtr& closure, CallArgs& args,
                              const Value* caller) {
  if (++iterations_ > limits_.max_loop_iterations) fail("RuntimeError", "too many macro calls");
  if (++call_depth_ > limits_.max_call_depth) {
    --call_depth_;
    fail("RecursionError", "maximum recursion depth exceeded");
  }
  struct DepthRestore {
    int& d;
    ~DepthRestore() { --d; }
  } restore{call_depth_};
  int saved_line = line_;
  auto sc = std::make_shared<Scope>(closure);
  const size_t nparams = m.params.size();
  std::vector<bool> bound(nparams, false);
  std::vector<Value> values(nparams);
  std::string macro_name = m.kind == StmtKind::kMacro ? m.name : "caller";
  for (size_t i = 0; i < args.pos.size(); ++i) {
    if (i < nparams) {
      values[i] = std::move(args.pos[i]);
      bound[i] = true;
    } else if (!m.uses_varargs) {
      fail("TypeError", "macro '" + macro_name + "' takes not more than " +
                            std::to_string(nparams) + " argument(s)");
    }
  }
  auto kwargs = std::make_shared<DictData>();
  for (auto& [k, v] : args.kw) {
    size_t idx = nparams;
    for (size_t i = 0; i < nparams; ++i)
      if (m.params[i] == k) idx = i;
    if (idx < nparams) {
      if (bound[idx])
        fail("TypeError",
             "macro '" + macro_name + "' got multiple values for argument '" + k + "'");
      values[idx] = std::move(v);
      bound[idx] = true;
    } else if (m.uses_kwargs) {
      kwargs->set(Value(k), std::move(v));
    } else {
      fail("TypeError", "macro '" + macro_name + "' takes no keyword argument '" + k + "'");
    }
  }
  const size_t first_default = nparams - m.defaults.size();
  for (size_t i = 0; i < nparams; ++i) {
    if (!bound[i]) {
      if (i >= first_default) {
        values[i] = eval(*m.defaults[i - first_default], sc);
      } else {
        values[i] = Value::undefined("parameter '" + m.params[i] + "' was not provided");
      }
    }
    sc->set(m.params[i], std::move(values[i]));
  }
  if (m.uses_varargs) {
    std::vector<Value> extra;
    for (size_t i = nparams; i < args.pos.size(); ++i) extra.push_back(std::move(args.pos[i]));
    sc->set("varargs", Value::list(std::move(extra), true));
  }
  if (m.uses_kwargs) sc->set("kwargs", Value(kwargs));
  if (m.uses_caller) sc->set("caller", caller ? *caller : Value::undefined("No caller defined"));
  std::string buf;
  exec(m.body, sc, buf);
  line_ = saved_line;
  return Value(std::move(buf));
}

Value Interpreter::lookup(const std::string& name, const ScopePtr& scope) {
  if (const Value* v = scope->find(name)) return *v;
  Value g;
  if (find_global(name, &g)) return g;
  return Value::undefined("'" + name + "' is undefined");
}

void Interpreter::eval_args(const Expr& e, const ScopePtr& scope, CallArgs& args) {
  args.pos.reserve(e.items.size());
  for (const auto& a : e.items) args.pos.push_back(eval(*a, scope));
  for (const auto& [k, v] : e.kwargs) args.kw.emplace_back(k, eval(*v, scope));
  if (e.dyn_args) {
    Value extra = eval(*e.dyn_args, scope);
    for (auto& v : iterate(extra)) args.pos.push_back(std::move(v));
  }
  if (e.dyn_kwargs) {
    Value extra = eval(*e.dyn_kwargs, scope);
    if (!extra.is_dict()) fail("TypeError", "argument after ** must be a mapping");
    for (const auto& [k, v] : extra.dict_ptr()->entries) {
      if (!k.is_string()) fail("TypeError", "keywords must be strings");
      args.kw.emplace_back(k.str(), v);
    }
  }
}

Value Interpreter::call(const Value& callee, CallArgs& args) {
  if (callee.is_callable()) return callee.callable()->fn(*this, args);
  if (callee.is_undefined()) fail_undefined(callee);
  if (callee.is_loop()) {
    const LoopPtr& loop = callee.loop();
    if (!loop->stmt || !loop->stmt->recursive)
      fail("TypeError",
           "Tried to call non recursive loop.  Maybe you forgot the 'recursive' "
           "modifier.");
    if (args.pos.size() != 1 || !args.kw.empty())
      fail("TypeError", "loop() takes exactly one argument");
    ScopePtr scope = loop->scope.lock();
    if (!scope) fail("RuntimeError", "loop() called outside of its loop");
    if (++call_depth_ > limits_.max_call_depth) {
      --call_depth_;
      fail("RecursionError", "maximum recursion depth exceeded");
    }
    std::string buf;
    run_loop(*loop->stmt, std::make_shared<const std::vector<Value>>(iterate(args.pos[0])), scope,
             loop->depth0 + 1, buf);
    --call_depth_;
    return Value(std::move(buf));
  }
  fail("TypeError", "'" + callee.type_name() + "' object is not callable");
}

Value Interpreter::eval_call(const Expr& e, const ScopePtr& scope) {
  CallArgs args;
  if (e.a->kind == ExprKind::kGetattr) {
    // obj.method(args): call builtin methods directly, without a bound-method object.
    Value obj = eval(*e.a->a, scope);
    eval_args(e, scope, args);
    line_ = e.line;
    Value out;
    if (call_method(*this, obj, e.a->name, args, &out)) return out;
    Value callee = getattr(obj, e.a->name);
    return call(callee, args);
  }
  Value callee = eval(*e.a, scope);
  eval_args(e, scope, args);
  line_ = e.line;
  return call(callee, args);
}

Value Interpreter::eval_filter(const Expr& e, const ScopePtr& scope, const Value* input) {
  // In {% filter %} / {% set x | f %} chains the innermost filter takes the block's text.
  Value in = !e.a                                        ? (input ? *input : Value())
             : (input && e.a->kind == ExprKind::kFilter) ? eval_filter(*e.a, scope, input)
                                                         : eval(*e.a, scope);
  CallArgs args;
  eval_args(e, scope, args);
  line_ = e.line;
  if (!e.filter) fail("TemplateRuntimeError", "No filter named '" + e.name + "' found.");
  return e.filter(*this, in, args);
}

Value Interpreter::apply_filter(const std::string& name, const Value& input, CallArgs& args) {
  FilterFn f = find_filter(name);
  if (!f) fail("TemplateRuntimeError", "No filter named '" + name + "' found.");
  return f(*this, input, args);
}

bool Interpreter::apply_test(const std::string& name, const Value& input, CallArgs& args) {
  TestFn t = find_test(name);
  if (!t) fail("TemplateRuntimeError", "No test named '" + name + "' found.");
  return t(*this, input, args);
}

Value Interpreter::eval(const Expr& e, const ScopePtr& scope) {
  line_ = e.line;
  switch (e.kind) {
    case ExprKind::kConst:
      return e.value;
    case ExprKind::kName:
      return lookup(e.name, scope);
    case ExprKind::kNSRef:
      fail("TemplateSyntaxError", "namespace reference outside of an assignment");
    case ExprKind::kGetattr: {
      Value obj = eval(*e.a, scope);
      line_ = e.line;
      return getattr(obj, e.name);
    }
    case ExprKind::kGetitem: {
      Value obj = eval(*e.a, scope);
      if (e.b->kind == ExprKind::kSlice) {
        const Expr& s = *e.b;
        Value start = s.a ? eval(*s.a, scope) : Value::none();
        Value stop = s.b ? eval(*s.b, scope) : Value::none();
        Value step = s.c ? eval(*s.c, scope) : Value::none();
        line_ = e.line;
        return slice_value(*this, obj, start, stop, step);
      }
      Value key = eval(*e.b, scope);
      line_ = e.line;
      return getitem(obj, key);
    }
    case ExprKind::kSlice:
      fail("TemplateSyntaxError", "slice outside of a subscript");
    case ExprKind::kCall:
      return eval_call(e, scope);
    case ExprKind::kFilter:
      return eval_filter(e, scope, nullptr);
    case ExprKind::kTest: {
      Value in = eval(*e.a, scope);
      CallArgs args;
      eval_args(e, scope, args);
      line_ = e.line;
      if (!e.test) fail("TemplateRuntimeError", "No test named '" + e.name + "' found.");
      return Value(e.test(*this, in, args));
    }
    case ExprKind::kNeg:
    case ExprKind::kPos: {
      Value v = eval(*e.a, scope);
      line_ = e.line;
      return unary_op(*this, e.kind == ExprKind::kNeg, v);
    }
    case ExprKind::kNot:
      return Value(!eval(*e.a, scope).truthy());
    case ExprKind::kBinary: {
      Value l = eval(*e.a, scope);
      Value r = eval(*e.b, scope);
      line_ = e.line;
      if (e.op == BinOp::kAdd && r.is_string() && !r.is_safe() && l.is_string() &&
          l.str().size() + r.str().size() <= limits_.max_string_bytes && l.append_unique(r.str()))
        return l;
      return binary_op(*this, e.op, l, r);
    }
    case ExprKind::kConcat: {
      std::string s;
      for (const auto& item : e.items) {
        Value v = eval(*item, scope);
        append_str(v, s);
        check_string_size(s.size());
      }
      return Value(std::move(s));
    }
    case ExprKind::kAnd: {
      Value l = eval(*e.a, scope);
      if (!l.truthy()) return l;
      return eval(*e.b, scope);
    }
    case ExprKind::kOr: {
      Value l = eval(*e.a, scope);
      if (l.truthy()) return l;
      return eval(*e.b, scope);
    }
    case ExprKind::kCompare: {
      Value left = eval(*e.a, scope);
      for (const auto& [op, rexpr] : e.ops) {
        Value right = eval(*rexpr, scope);
        line_ = e.line;
        if (!compare_op(*this, op, left, right)) return Value(false);
        left = std::move(right);
      }
      return Value(true);
    }
    case ExprKind::kCond:
      if (eval(*e.a, scope).truthy()) return eval(*e.b, scope);
      if (e.c) return eval(*e.c, scope);
      return Value::undefined("the inline if-expression on line " + std::to_string(e.line) +
                              " evaluated to false and no else section was defined.");
    case ExprKind::kList:
    case ExprKind::kTuple: {
      std::vector<Value> items;
      items.reserve(e.items.size());
      for (const auto& item : e.items) items.push_back(eval(*item, scope));
      return Value::list(std::move(items), e.kind == ExprKind::kTuple);
    }
    case ExprKind::kDict: {
      auto d = std::make_shared<DictData>();
      for (const auto& [k, v] : e.pairs) {
        Value key = eval(*k, scope);
        if (key.is_list() && !key.is_tuple()) fail("TypeError", "unhashable type: 'list'");
        if (key.is_dict()) fail("TypeError", "unhashable type: 'dict'");
        d->set(std::move(key), eval(*v, scope));
      }
      return Value(std::move(d));
    }
  }
  return Value();
}

}  // namespace sluice::jinja
