#include "jinja/parser.h"

#include <initializer_list>

#include "jinja/builtins.h"
#include "jinja/error.h"
#include "jinja/lexer.h"

namespace sluice::jinja {

namespace {

constexpr int kMaxDepth = 200;  // nesting of expressions and statements

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

  Body parse() {
    Body body = subparse({});
    return body;
  }

 private:
  // ---- token stream ----
  const Token& cur() const { return t_[pos_]; }
  const Token& look() const { return t_[pos_ + 1 < t_.size() ? pos_ + 1 : pos_]; }
  const Token& next() {
    const Token& tok = t_[pos_];
    if (pos_ + 1 < t_.size()) ++pos_;
    return tok;
  }
  bool is(Tok type) const { return cur().type == type; }
  bool is_name(const char* name) const { return is(Tok::kName) && cur().text == name; }
  bool skip_if(Tok type) {
    if (!is(type)) return false;
    next();
    return true;
  }
  bool skip_name(const char* name) {
    if (!is_name(name)) return false;
    next();
    return true;
  }
  [[noreturn]] void fail(const std::string& msg, int line = -1) {
    throw_error("TemplateSyntaxError", msg, line < 0 ? cur().line : line);
  }
  std::string describe(const Token& tok) const {
    if (tok.type == Tok::kName) return tok.text;
    return token_name(tok.type);
  }
  const Token& expect(Tok type) {
    if (!is(type)) {
      if (is(Tok::kEof))
        fail(std::string("unexpected end of template, expected '") + token_name(type) + "'.");
      fail(std::string("expected token '") + token_name(type) + "', got '" + describe(cur()) + "'");
    }
    return next();
  }
  const Token& expect_name(const char* name) {
    if (!is_name(name)) {
      if (is(Tok::kEof)) fail(std::string("unexpected end of template, expected '") + name + "'.");
      fail(std::string("expected token '") + name + "', got '" + describe(cur()) + "'");
    }
    return next();
  }

  struct DepthGuard {
    Parser* p;
    explicit DepthGuard(Parser* parser) : p(parser) {
      if (++p->depth_ > kMaxDepth) p->fail("template nesting too deep");
    }
    ~DepthGuard() { --p->depth_; }
  };

  // ---- statements ----
  bool at_end_token(const std::vector<const char*>& end_tokens) const {
    if (!is(Tok::kName)) return false;
    for (const char* e : end_tokens)
      if (cur().text == e) return true;
    return false;
  }

  Body subparse(const std::vector<const char*>& end_tokens) {
    Body body;
    while (!is(Tok::kEof)) {
      const Token& tok = cur();
      if (tok.type == Tok::kData) {
        auto s = std::make_unique<Stmt>(StmtKind::kText, tok.line);
        s->text = tok.text;
        body.push_back(std::move(s));
        next();
      } else if (tok.type == Tok::kVarBegin) {
        next();
        auto s = std::make_unique<Stmt>(StmtKind::kOutput, cur().line);
        s->expr = parse_tuple(false, true, {});
        expect(Tok::kVarEnd);
        body.push_back(std::move(s));
      } else if (tok.type == Tok::kBlockBegin) {
        next();
        if (!end_tokens.empty() && at_end_token(end_tokens)) return body;
        body.push_back(parse_statement());
        expect(Tok::kBlockEnd);
      } else {
        fail("internal parsing error");
      }
    }
    if (!end_tokens.empty()) {
      std::string names;
      for (const char* e : end_tokens)
        names += std::string(names.empty() ? "" : " or ") + "'" + e + "'";
      fail("Unexpected end of template. Jinja was looking for the following tags: " + names + ".");
    }
    return body;
  }

  Body parse_statements(const std::vector<const char*>& end_tokens, bool drop_needle) {
    skip_if(Tok::kColon);
    expect(Tok::kBlockEnd);
    Body body = subparse(end_tokens);
    if (is(Tok::kEof)) fail("unexpected end of template");
    if (drop_needle) next();
    return body;
  }

  StmtPtr parse_statement() {
    DepthGuard guard(this);
    if (!is(Tok::kName)) fail("tag name expected");
    const std::string tag = cur().text;
    int line = cur().line;
    if (tag == "for") return parse_for();
    if (tag == "if") return parse_if();
    if (tag == "set") return parse_set();
    if (tag == "macro") return parse_macro();
    if (tag == "call") return parse_call_block();
    if (tag == "filter") return parse_filter_block();
    if (tag == "with") return parse_with();
    if (tag == "print") {
      next();
      auto s = std::make_unique<Stmt>(StmtKind::kOutput, line);
      std::vector<ExprPtr> items;
      while (!is(Tok::kBlockEnd)) {
        if (!items.empty()) expect(Tok::kComma);
        items.push_back(parse_expression(true));
      }
      auto concat = std::make_unique<Expr>(ExprKind::kConcat, line);
      concat->items = std::move(items);
      s->expr = std::move(concat);
      return s;
    }
    if (tag == "break" || tag == "continue") {
      next();
      if (loop_depth_ == 0) fail("'" + tag + "' outside loop", line);
      return std::make_unique<Stmt>(tag == "break" ? StmtKind::kBreak : StmtKind::kContinue, line);
    }
    if (tag == "block" || tag == "generation" || tag == "autoescape") {
      next();
      std::string end = "end" + tag;
      if (tag == "block") {
        expect(Tok::kName);
        skip_name("scoped");
        skip_name("required");
      } else if (tag == "autoescape") {
        parse_expression(true);
      }
      auto s = std::make_unique<Stmt>(StmtKind::kScope, line);
      s->body = parse_statements({end.c_str()}, true);
      if (tag == "block" && is(Tok::kName)) next();  // {% endblock name %}
      return s;
    }
    if (tag == "extends" || tag == "include" || tag == "import" || tag == "from") {
      next();
      auto s = std::make_unique<Stmt>(StmtKind::kUnsupported, line);
      s->text = tag;
      while (!is(Tok::kBlockEnd) && !is(Tok::kEof)) next();
      return s;
    }
    fail("Encountered unknown tag '" + tag + "'.", line);
  }

  StmtPtr parse_for() {
    auto s = std::make_unique<Stmt>(StmtKind::kFor, next().line);
    s->target = parse_assign_target(true, false, {"in"}, false);
    expect_name("in");
    s->expr = parse_tuple(false, false, {"recursive"});
    if (skip_name("if")) s->cond = parse_expression(true);
    s->recursive = skip_name("recursive");
    ++loop_depth_;
    s->body = parse_statements({"endfor", "else"}, false);
    --loop_depth_;
    if (next().text != "endfor") s->else_body = parse_statements({"endfor"}, true);
    return s;
  }

  StmtPtr parse_if() {
    auto s = std::make_unique<Stmt>(StmtKind::kIf, next().line);
    while (true) {
      ExprPtr test = parse_tuple(false, false, {});
      Body body = parse_statements({"elif", "else", "endif"}, false);
      s->branches.emplace_back(std::move(test), std::move(body));
      const Token& tok = next();
      if (tok.text == "elif") continue;
      if (tok.text == "else") s->else_body = parse_statements({"endif"}, true);
      break;
    }
    return s;
  }

  StmtPtr parse_set() {
    int line = next().line;
    ExprPtr target = parse_assign_target(true, false, {}, true);
    if (skip_if(Tok::kAssign)) {
      auto s = std::make_unique<Stmt>(StmtKind::kSet, line);
      s->target = std::move(target);
      s->expr = parse_tuple(false, true, {});
      return s;
    }
    auto s = std::make_unique<Stmt>(StmtKind::kSetBlock, line);
    s->target = std::move(target);
    s->expr = parse_filter(nullptr, false);
    s->body = parse_statements({"endset"}, true);
    return s;
  }

  void parse_signature(Stmt* s) {
    expect(Tok::kLParen);
    while (!is(Tok::kRParen)) {
      if (!s->params.empty()) expect(Tok::kComma);
      const Token& name = expect(Tok::kName);
      if (name.text == "true" || name.text == "false" || name.text == "none" ||
          name.text == "True" || name.text == "False" || name.text == "None")
        fail("can't assign to 'const'", name.line);
      if (skip_if(Tok::kAssign)) {
        s->defaults.push_back(parse_expression(true));
      } else if (!s->defaults.empty()) {
        fail("non-default argument follows default argument");
      }
      s->params.push_back(name.text);
    }
    expect(Tok::kRParen);
  }

  StmtPtr parse_macro() {
    auto s = std::make_unique<Stmt>(StmtKind::kMacro, next().line);
    s->name = expect(Tok::kName).text;
    parse_signature(s.get());
    int saved = loop_depth_;
    loop_depth_ = 0;
    s->body = parse_statements({"endmacro"}, true);
    loop_depth_ = saved;
    scan_special_names(s.get());
    return s;
  }

  StmtPtr parse_call_block() {
    auto s = std::make_unique<Stmt>(StmtKind::kCallBlock, next().line);
    if (is(Tok::kLParen)) parse_signature(s.get());
    s->expr = parse_expression(true);
    if (s->expr->kind != ExprKind::kCall) fail("expected call", s->line);
    int saved = loop_depth_;
    loop_depth_ = 0;
    s->body = parse_statements({"endcall"}, true);
    loop_depth_ = saved;
    scan_special_names(s.get());
    return s;
  }

  StmtPtr parse_filter_block() {
    auto s = std::make_unique<Stmt>(StmtKind::kFilterBlock, next().line);
    s->expr = parse_filter(nullptr, true);
    s->body = parse_statements({"endfilter"}, true);
    return s;
  }

  StmtPtr parse_with() {
    auto s = std::make_unique<Stmt>(StmtKind::kWith, next().line);
    while (!is(Tok::kBlockEnd)) {
      if (!s->targets.empty()) expect(Tok::kComma);
      s->targets.push_back(parse_assign_target(true, false, {}, false));
      expect(Tok::kAssign);
      s->values.push_back(parse_expression(true));
    }
    s->body = parse_statements({"endwith"}, true);
    return s;
  }

  // Which of caller / varargs / kwargs a macro body mentions (jinja2 decides the signature so).
  static void scan_expr(const Expr* e, Stmt* m) {
    if (!e) return;
    if (e->kind == ExprKind::kName) {
      if (e->name == "caller") m->uses_caller = true;
      if (e->name == "varargs") m->uses_varargs = true;
      if (e->name == "kwargs") m->uses_kwargs = true;
    }
    scan_expr(e->a.get(), m);
    scan_expr(e->b.get(), m);
    scan_expr(e->c.get(), m);
    scan_expr(e->dyn_args.get(), m);
    scan_expr(e->dyn_kwargs.get(), m);
    for (const auto& x : e->items) scan_expr(x.get(), m);
    for (const auto& x : e->kwargs) scan_expr(x.second.get(), m);
    for (const auto& x : e->ops) scan_expr(x.second.get(), m);
    for (const auto& x : e->pairs) {
      scan_expr(x.first.get(), m);
      scan_expr(x.second.get(), m);
    }
  }
  static void scan_body(const Body& body, Stmt* m) {
    for (const auto& s : body) {
      scan_expr(s->expr.get(), m);
      scan_expr(s->cond.get(), m);
      for (const auto& d : s->defaults) scan_expr(d.get(), m);
      for (const auto& v : s->values) scan_expr(v.get(), m);
      for (const auto& [test, b] : s->branches) {
        scan_expr(test.get(), m);
        scan_body(b, m);
      }
      scan_body(s->body, m);
      scan_body(s->else_body, m);
    }
  }
  static void scan_special_names(Stmt* m) {
    scan_body(m->body, m);
    for (const auto& d : m->defaults) scan_expr(d.get(), m);
  }

  // ---- assignment targets ----
  ExprPtr parse_assign_target(bool with_tuple, bool name_only,
                              const std::vector<const char*>& extra_end, bool with_namespace) {
    ExprPtr target;
    if (name_only) {
      const Token& tok = expect(Tok::kName);
      target = std::make_unique<Expr>(ExprKind::kName, tok.line);
      target->name = tok.text;
    } else if (with_tuple) {
      target = parse_tuple(true, true, extra_end, false, with_namespace);
    } else {
      target = parse_primary(with_namespace);
    }
    check_assignable(target.get());
    return target;
  }

  void check_assignable(const Expr* e) {
    if (e->kind == ExprKind::kName || e->kind == ExprKind::kNSRef) return;
    if (e->kind == ExprKind::kTuple) {
      for (const auto& x : e->items) check_assignable(x.get());
      return;
    }
    static const char* names[] = {"const",  "name",   "nsref", "getattr", "getitem", "slice",
                                  "call",   "filter", "test",  "neg",     "pos",     "not",
                                  "binary", "concat", "and",   "or",      "compare", "condexpr",
                                  "list",   "tuple",  "dict"};
    fail(std::string("can't assign to '") + names[static_cast<int>(e->kind)] + "'", e->line);
  }

  // ---- expressions ----
  bool is_tuple_end(const std::vector<const char*>& extra_end) const {
    if (is(Tok::kVarEnd) || is(Tok::kBlockEnd) || is(Tok::kRParen)) return true;
    return at_end_token(extra_end);
  }

  ExprPtr parse_tuple(bool simplified, bool with_condexpr,
                      const std::vector<const char*>& extra_end, bool explicit_parens = false,
                      bool with_namespace = false) {
    int line = cur().line;
    std::vector<ExprPtr> args;
    bool is_tuple = false;
    while (true) {
      if (!args.empty()) expect(Tok::kComma);
      if (is_tuple_end(extra_end)) break;
      args.push_back(simplified ? parse_primary(with_namespace) : parse_expression(with_condexpr));
      if (is(Tok::kComma))
        is_tuple = true;
      else
        break;
      line = cur().line;
    }
    if (!is_tuple) {
      if (!args.empty()) return std::move(args[0]);
      if (!explicit_parens) {
        if (is(Tok::kEof)) fail("unexpected end of template");
        fail("Expected an expression, got '" + describe(cur()) + "'");
      }
    }
    auto t = std::make_unique<Expr>(ExprKind::kTuple, line);
    t->items = std::move(args);
    return t;
  }

  ExprPtr parse_expression(bool with_condexpr) {
    DepthGuard guard(this);
    return with_condexpr ? parse_condexpr() : parse_or();
  }

  ExprPtr parse_condexpr() {
    int line = cur().line;
    ExprPtr expr1 = parse_or();
    while (skip_name("if")) {
      auto cond = std::make_unique<Expr>(ExprKind::kCond, line);
      cond->a = parse_or();
      if (skip_name("else")) cond->c = parse_condexpr();
      cond->b = std::move(expr1);
      expr1 = std::move(cond);
      line = cur().line;
    }
    return expr1;
  }

  ExprPtr binary_node(ExprKind kind, ExprPtr l, ExprPtr r, int line) {
    auto e = std::make_unique<Expr>(kind, line);
    e->a = std::move(l);
    e->b = std::move(r);
    return e;
  }

  ExprPtr parse_or() {
    int line = cur().line;
    ExprPtr left = parse_and();
    while (skip_name("or")) {
      left = binary_node(ExprKind::kOr, std::move(left), parse_and(), line);
      line = cur().line;
    }
    return left;
  }

  ExprPtr parse_and() {
    int line = cur().line;
    ExprPtr left = parse_not();
    while (skip_name("and")) {
      left = binary_node(ExprKind::kAnd, std::move(left), parse_not(), line);
      line = cur().line;
    }
    return left;
  }

  ExprPtr parse_not() {
    DepthGuard guard(this);
    if (is_name("not")) {
      int line = next().line;
      auto e = std::make_unique<Expr>(ExprKind::kNot, line);
      e->a = parse_not();
      return e;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    int line = cur().line;
    ExprPtr expr = parse_math1();
    std::vector<std::pair<CmpOp, ExprPtr>> ops;
    while (true) {
      CmpOp op;
      if (is(Tok::kEq))
        op = CmpOp::kEq;
      else if (is(Tok::kNe))
        op = CmpOp::kNe;
      else if (is(Tok::kLt))
        op = CmpOp::kLt;
      else if (is(Tok::kLe))
        op = CmpOp::kLe;
      else if (is(Tok::kGt))
        op = CmpOp::kGt;
      else if (is(Tok::kGe))
        op = CmpOp::kGe;
      else if (is_name("in"))
        op = CmpOp::kIn;
      else if (is_name("not") && look().type == Tok::kName && look().text == "in") {
        next();
        op = CmpOp::kNotIn;
      } else {
        break;
      }
      next();
      ops.emplace_back(op, parse_math1());
      line = cur().line;
    }
    if (ops.empty()) return expr;
    auto e = std::make_unique<Expr>(ExprKind::kCompare, line);
    e->a = std::move(expr);
    e->ops = std::move(ops);
    return e;
  }

  ExprPtr binop(BinOp op, ExprPtr l, ExprPtr r, int line) {
    auto e = binary_node(ExprKind::kBinary, std::move(l), std::move(r), line);
    e->op = op;
    return e;
  }

  ExprPtr parse_math1() {
    int line = cur().line;
    ExprPtr left = parse_concat();
    while (is(Tok::kAdd) || is(Tok::kSub)) {
      BinOp op = is(Tok::kAdd) ? BinOp::kAdd : BinOp::kSub;
      next();
      left = binop(op, std::move(left), parse_concat(), line);
      line = cur().line;
    }
    return left;
  }

  ExprPtr parse_concat() {
    int line = cur().line;
    std::vector<ExprPtr> args;
    args.push_back(parse_math2());
    while (skip_if(Tok::kTilde)) args.push_back(parse_math2());
    if (args.size() == 1) return std::move(args[0]);
    auto e = std::make_unique<Expr>(ExprKind::kConcat, line);
    e->items = std::move(args);
    return e;
  }

  ExprPtr parse_math2() {
    int line = cur().line;
    ExprPtr left = parse_pow();
    while (is(Tok::kMul) || is(Tok::kDiv) || is(Tok::kFloorDiv) || is(Tok::kMod)) {
      BinOp op = is(Tok::kMul)   ? BinOp::kMul
                 : is(Tok::kDiv) ? BinOp::kDiv
                 : is(Tok::kMod) ? BinOp::kMod
                                 : BinOp::kFloorDiv;
      next();
      left = binop(op, std::move(left), parse_pow(), line);
      line = cur().line;
    }
    return left;
  }

  ExprPtr parse_pow() {
    int line = cur().line;
    ExprPtr left = parse_unary(true);
    while (skip_if(Tok::kPow)) {
      left = binop(BinOp::kPow, std::move(left), parse_unary(true), line);
      line = cur().line;
    }
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    DepthGuard guard(this);
    int line = cur().line;
    ExprPtr node;
    if (skip_if(Tok::kSub)) {
      node = std::make_unique<Expr>(ExprKind::kNeg, line);
      node->a = parse_unary(false);
    } else if (skip_if(Tok::kAdd)) {
      node = std::make_unique<Expr>(ExprKind::kPos, line);
      node->a = parse_unary(false);
    } else {
      node = parse_primary(false);
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_expr(std::move(node));
    return node;
  }

  ExprPtr parse_primary(bool with_namespace) {
    DepthGuard guard(this);
    const Token& tok = cur();
    int line = tok.line;
    if (tok.type == Tok::kName) {
      next();
      const std::string& n = tok.text;
      if (n == "true" || n == "True" || n == "false" || n == "False") {
        auto e = std::make_unique<Expr>(ExprKind::kConst, line);
        e->value = Value(n == "true" || n == "True");
        return e;
      }
      if (n == "none" || n == "None") {
        auto e = std::make_unique<Expr>(ExprKind::kConst, line);
        e->value = Value::none();
        return e;
      }
      if (with_namespace && is(Tok::kDot)) {
        next();
        auto e = std::make_unique<Expr>(ExprKind::kNSRef, line);
        e->name = n;
        e->attr = expect(Tok::kName).text;
        return e;
      }
      auto e = std::make_unique<Expr>(ExprKind::kName, line);
      e->name = n;
      return e;
    }
    if (tok.type == Tok::kString) {
      std::string s = next().text;
      while (is(Tok::kString)) s += next().text;
      auto e = std::make_unique<Expr>(ExprKind::kConst, line);
      e->value = Value(std::move(s));
      return e;
    }
    if (tok.type == Tok::kInteger || tok.type == Tok::kFloat) {
      const Token& num = next();
      auto e = std::make_unique<Expr>(ExprKind::kConst, line);
      e->value = num.type == Tok::kInteger ? Value(num.ival) : Value(num.fval);
      return e;
    }
    if (tok.type == Tok::kLParen) {
      next();
      ExprPtr e = parse_tuple(false, true, {}, true);
      expect(Tok::kRParen);
      return e;
    }
    if (tok.type == Tok::kLBracket) {
      next();
      auto e = std::make_unique<Expr>(ExprKind::kList, line);
      while (!is(Tok::kRBracket)) {
        if (!e->items.empty()) expect(Tok::kComma);
        if (is(Tok::kRBracket)) break;
        e->items.push_back(parse_expression(true));
      }
      expect(Tok::kRBracket);
      return e;
    }
    if (tok.type == Tok::kLBrace) {
      next();
      auto e = std::make_unique<Expr>(ExprKind::kDict, line);
      while (!is(Tok::kRBrace)) {
        if (!e->pairs.empty()) expect(Tok::kComma);
        if (is(Tok::kRBrace)) break;
        ExprPtr key = parse_expression(true);
        expect(Tok::kColon);
        ExprPtr value = parse_expression(true);
        e->pairs.emplace_back(std::move(key), std::move(value));
      }
      expect(Tok::kRBrace);
      return e;
    }
    if (tok.type == Tok::kEof) fail("unexpected end of template");
    fail("unexpected '" + describe(tok) + "'");
  }

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      if (is(Tok::kDot) || is(Tok::kLBracket)) {
        node = parse_subscript(std::move(node));
      } else if (is(Tok::kLParen)) {
        node = parse_call(std::move(node));
      } else {
        break;
      }
    }
    return node;
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    while (true) {
      if (is(Tok::kPipe)) {
        node = parse_filter(std::move(node), false);
      } else if (is_name("is")) {
        node = parse_test(std::move(node));
      } else if (is(Tok::kLParen)) {
        node = parse_call(std::move(node));
      } else {
        break;
      }
    }
    return node;
  }

  ExprPtr parse_subscript(ExprPtr node) {
    DepthGuard guard(this);
    const Token& tok = next();
    int line = tok.line;
    if (tok.type == Tok::kDot) {
      const Token& attr = next();
      if (attr.type == Tok::kName) {
        auto e = std::make_unique<Expr>(ExprKind::kGetattr, line);
        e->a = std::move(node);
        e->name = attr.text;
        return e;
      }
      if (attr.type != Tok::kInteger) fail("expected name or number", attr.line);
      auto e = std::make_unique<Expr>(ExprKind::kGetitem, line);
      e->a = std::move(node);
      e->b = std::make_unique<Expr>(ExprKind::kConst, attr.line);
      e->b->value = Value(attr.ival);
      return e;
    }
    // '['
    std::vector<ExprPtr> args;
    while (!is(Tok::kRBracket)) {
      if (!args.empty()) expect(Tok::kComma);
      args.push_back(parse_subscribed());
    }
    expect(Tok::kRBracket);
    auto e = std::make_unique<Expr>(ExprKind::kGetitem, line);
    e->a = std::move(node);
    if (args.size() == 1) {
      e->b = std::move(args[0]);
    } else {
      e->b = std::make_unique<Expr>(ExprKind::kTuple, line);
      e->b->items = std::move(args);
    }
    return e;
  }

  ExprPtr parse_subscribed() {
    int line = cur().line;
    ExprPtr start;
    if (is(Tok::kColon)) {
      next();
    } else {
      ExprPtr node = parse_expression(true);
      if (!is(Tok::kColon)) return node;
      next();
      start = std::move(node);
    }
    auto s = std::make_unique<Expr>(ExprKind::kSlice, line);
    s->a = std::move(start);
    if (!is(Tok::kColon) && !is(Tok::kRBracket) && !is(Tok::kComma)) s->b = parse_expression(true);
    if (skip_if(Tok::kColon)) {
      if (!is(Tok::kRBracket) && !is(Tok::kComma)) s->c = parse_expression(true);
    }
    return s;
  }

  void parse_call_args(Expr* e) {
    int line = expect(Tok::kLParen).line;
    bool require_comma = false;
    auto ensure = [&](bool ok) {
      if (!ok) fail("invalid syntax for function call expression", line);
    };
    while (!is(Tok::kRParen)) {
      if (require_comma) {
        expect(Tok::kComma);
        if (is(Tok::kRParen)) break;
      }
      if (is(Tok::kMul)) {
        ensure(!e->dyn_args && !e->dyn_kwargs);
        next();
        e->dyn_args = parse_expression(true);
      } else if (is(Tok::kPow)) {
        ensure(!e->dyn_kwargs);
        next();
        e->dyn_kwargs = parse_expression(true);
      } else if (is(Tok::kName) && look().type == Tok::kAssign) {
        ensure(!e->dyn_kwargs);
        std::string key = next().text;
        next();
        e->kwargs.emplace_back(key, parse_expression(true));
      } else {
        ensure(!e->dyn_args && !e->dyn_kwargs && e->kwargs.empty());
        e->items.push_back(parse_expression(true));
      }
      require_comma = true;
    }
    expect(Tok::kRParen);
  }

  ExprPtr parse_call(ExprPtr node) {
    DepthGuard guard(this);
    auto e = std::make_unique<Expr>(ExprKind::kCall, cur().line);
    e->a = std::move(node);
    parse_call_args(e.get());
    return e;
  }

  ExprPtr parse_filter(ExprPtr node, bool start_inline) {
    while (is(Tok::kPipe) || start_inline) {
      DepthGuard guard(this);
      if (!start_inline) next();
      const Token& tok = expect(Tok::kName);
      auto e = std::make_unique<Expr>(ExprKind::kFilter, tok.line);
      e->name = tok.text;
      while (skip_if(Tok::kDot)) e->name += "." + expect(Tok::kName).text;
      if (is(Tok::kLParen)) parse_call_args(e.get());
      e->filter = find_filter(e->name);
      e->a = std::move(node);
      node = std::move(e);
      start_inline = false;
    }
    return node;
  }

  ExprPtr parse_test(ExprPtr node) {
    DepthGuard guard(this);
    int line = next().line;  // 'is'
    bool negated = skip_name("not");
    auto e = std::make_unique<Expr>(ExprKind::kTest, line);
    e->name = expect(Tok::kName).text;
    while (skip_if(Tok::kDot)) e->name += "." + expect(Tok::kName).text;
    if (is(Tok::kLParen)) {
      parse_call_args(e.get());
    } else if ((is(Tok::kName) || is(Tok::kString) || is(Tok::kInteger) || is(Tok::kFloat) ||
                is(Tok::kLParen) || is(Tok::kLBracket) || is(Tok::kLBrace)) &&
               !is_name("else") && !is_name("or") && !is_name("and")) {
      if (is_name("is")) fail("You cannot chain multiple tests with is");
      ExprPtr arg = parse_postfix(parse_primary(false));
      e->items.push_back(std::move(arg));
    }
    e->test = find_test(e->name);
    e->a = std::move(node);
    if (!negated) return e;
    auto n = std::make_unique<Expr>(ExprKind::kNot, line);
    n->a = std::move(e);
    return n;
  }

  std::vector<Token> t_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
};

// jinja2 rejects unknown filters and tests when compiling, except inside an {% if %} or an
// inline if-expression, where the error waits until the branch runs.
void check_expr(const Expr* e, bool soft) {
  if (!e) return;
  if (e->kind == ExprKind::kCond) soft = true;
  if (!soft && e->kind == ExprKind::kFilter && !e->filter)
    throw_error("TemplateAssertionError", "No filter named '" + e->name + "'.", e->line);
  if (!soft && e->kind == ExprKind::kTest && !e->test)
    throw_error("TemplateAssertionError", "No test named '" + e->name + "'.", e->line);
  check_expr(e->a.get(), soft);
  check_expr(e->b.get(), soft);
  check_expr(e->c.get(), soft);
  check_expr(e->dyn_args.get(), soft);
  check_expr(e->dyn_kwargs.get(), soft);
  for (const auto& x : e->items) check_expr(x.get(), soft);
  for (const auto& x : e->kwargs) check_expr(x.second.get(), soft);
  for (const auto& x : e->ops) check_expr(x.second.get(), soft);
  for (const auto& x : e->pairs) {
    check_expr(x.first.get(), soft);
    check_expr(x.second.get(), soft);
  }
}

void check_body(const Body& body, bool soft) {
  for (const auto& s : body) {
    if (s->kind == StmtKind::kIf) {
      for (const auto& [test, b] : s->branches) {
        check_expr(test.get(), true);
        check_body(b, true);
      }
      check_body(s->else_body, true);
      continue;
    }
    check_expr(s->expr.get(), soft);
    check_expr(s->cond.get(), false);
    for (const auto& d : s->defaults) check_expr(d.get(), false);
    for (const auto& v : s->values) check_expr(v.get(), soft);
    bool inner_soft = s->kind == StmtKind::kScope ? soft : false;
    check_body(s->body, inner_soft);
    check_body(s->else_body, inner_soft);
  }
}

}  // namespace

Body parse_template(const std::string& source) {
  Body body = Parser(tokenize(source)).parse();
  check_body(body, false);
  return body;
}

}  // namespace sluice::jinja
