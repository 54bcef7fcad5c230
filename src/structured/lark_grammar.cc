// GrammarAst -> node tree. Terminals are inlined (they are regular); rules become references of
// one RuleSet, so they may recurse. Lark's common.lark terminals are written below in Lark.
#include "structured/lark_grammar.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "structured/grammar_node.h"
#include "structured/lark_ast.h"
#include "structured/regex_compiler.h"

namespace sluice::structured {

namespace {

using lark::Definition;
using lark::error_at;
using lark::Expr;

// The terminals of Lark's common.lark with the same languages (ESCAPED_STRING and C_COMMENT
// without the lookbehind and lazy forms Lark writes them with).
constexpr std::string_view kCommonLark = R"lark(
DIGIT: "0".."9"
HEXDIGIT: "a".."f" | "A".."F" | DIGIT
INT: DIGIT+
SIGNED_INT: ["+" | "-"] INT
DECIMAL: INT "." INT? | "." INT
_EXP: ("e" | "E") SIGNED_INT
FLOAT: INT _EXP | DECIMAL _EXP?
SIGNED_FLOAT: ["+" | "-"] FLOAT
NUMBER: FLOAT | INT
SIGNED_NUMBER: ["+" | "-"] NUMBER
ESCAPED_STRING: "\"" /([^"\\\n]|\\.)*/ "\""
LCASE_LETTER: "a".."z"
UCASE_LETTER: "A".."Z"
LETTER: UCASE_LETTER | LCASE_LETTER
WORD: LETTER+
CNAME: ("_" | LETTER) ("_" | LETTER | DIGIT)*
WS_INLINE: (" " | /\t/)+
WS: /[ \t\f\r\n]/+
CR: /\r/
LF: /\n/
NEWLINE: (CR? LF)+
C_COMMENT: /\/\*([^*]|\*+[^*\/])*\*+\//
CPP_COMMENT: /\/\/[^\n]*/
SH_COMMENT: /#[^\n]*/
SQL_COMMENT: /--[^\n]*/
)lark";

constexpr std::string_view kCommonPrefix = "common.";  // no user name holds a '.'

void prefix_refs(Expr& e) {
  if (e.kind == Expr::Kind::kRef) e.text = std::string(kCommonPrefix) + e.text;
  for (Expr& c : e.children) prefix_refs(c);
}

const std::vector<Definition>& common_definitions() {
  static const std::vector<Definition> defs = [] {
    auto ast = lark::parse(kCommonLark);
    SLUICE_ASSERT(ast.ok(), "common.lark does not parse");
    std::vector<Definition> out = std::move(ast->definitions);
    for (Definition& d : out) {
      d.name = std::string(kCommonPrefix) + d.name;
      prefix_refs(d.body);
    }
    return out;
  }();
  return defs;
}

// ASCII letters in every byte class also match their other case.
NodePtr fold_case(const NodePtr& n) {
  auto copy = std::make_shared<GrammarNode>(*n);
  for (ByteSet& set : copy->classes)
    for (int c = 'a'; c <= 'z'; ++c)
      if (set.test(c) || set.test(c - 32)) set.set(c), set.set(c - 32);
  for (NodePtr& child : copy->children) child = fold_case(child);
  return copy;
}

class Compiler {
 public:
  Result<NodePtr> run(lark::GrammarAst ast) {
    rules_ = std::make_shared<RuleSet>();
    for (Definition& d : ast.definitions) SLUICE_RETURN_IF_ERROR(add(std::move(d)));
    for (const lark::Import& im : ast.imports) {
      const std::string target = std::string(kCommonPrefix) + im.name;
      bool known = false;
      for (const Definition& d : common_definitions()) known = known || d.name == target;
      if (!known) return error_at(im.line, im.col, "unknown import common." + im.name);
      Definition alias;
      alias.name = im.alias;
      alias.terminal = lark::is_terminal_name(im.alias);
      alias.line = im.line;
      alias.col = im.col;
      alias.body.kind = Expr::Kind::kRef;
      alias.body.text = target;
      alias.body.line = im.line;
      alias.body.col = im.col;
      SLUICE_RETURN_IF_ERROR(add(std::move(alias)));
    }
    for (const Definition& d : common_definitions()) defs_.emplace(d.name, d);
    if (!defs_.count("start")) return error_at(1, 1, "the grammar has no 'start' rule");

    if (!ast.ignores.empty()) {
      std::vector<NodePtr> ignored;
      for (const Expr& e : ast.ignores) {
        SLUICE_ASSIGN_OR_RETURN(NodePtr n, compile(e, /*in_terminal=*/true));
        ignored.push_back(n);
      }
      ignore_ = repeat(ignored.size() == 1 ? ignored[0] : choice(std::move(ignored)), 0, -1);
    }
    // Every rule gets a slot (in name order), then a body; unused rules are checked too.
    for (auto& [name, d] : defs_)
      if (!d.terminal) {
        rule_index_[name] = static_cast<int32_t>(rules_->names.size());
        rules_->names.push_back(name);
        rules_->bodies.push_back(nullptr);
      }
    for (auto& [name, d] : defs_)  // unused terminals are checked too
      if (d.terminal && !name.starts_with(kCommonPrefix)) {
        SLUICE_ASSIGN_OR_RETURN(NodePtr unused, terminal(name, d.body));
        (void)unused;
      }
    for (auto& [name, d] : defs_)
      if (!d.terminal) SLUICE_RETURN_IF_ERROR(remove_direct_left_recursion(d));
    SLUICE_RETURN_IF_ERROR(check_left_recursion());
    for (auto& [name, d] : defs_) {
      if (d.terminal) continue;
      SLUICE_ASSIGN_OR_RETURN(NodePtr body, compile(d.body, false));
      rules_->bodies[rule_index_[name]] = body;
    }
    NodePtr root = rule_ref(rules_.get(), rule_index_["start"]);
    if (ignore_) root = sequence({root, ignore_});
    return scope(rules_, root);
  }

 private:
  Status add(Definition d) {
    if (defs_.count(d.name))
      return error_at(d.line, d.col, "'" + d.name + "' is defined more than once");
    const std::string name = d.name;
    defs_.emplace(name, std::move(d));
    return Status::ok();
  }

  // a: a x | a y | z  ->  a: z (x | y)*  (Lark's Earley parser takes left recursion; the
  // matcher needs every rule to consume input before it recurses into itself).
  Status remove_direct_left_recursion(Definition& d) {
    std::vector<Expr> alts =
        d.body.kind == Expr::Kind::kAlt ? d.body.children : std::vector<Expr>{d.body};
    std::vector<Expr> base, tails;
    for (Expr& a : alts) {
      const Expr* first = a.kind == Expr::Kind::kSeq && !a.children.empty() ? &a.children[0] : &a;
      if (first->kind != Expr::Kind::kRef || first->text != d.name) {
        base.push_back(std::move(a));
        continue;
      }
      Expr tail;
      tail.kind = Expr::Kind::kSeq;
      tail.line = a.line;
      tail.col = a.col;
      if (a.kind == Expr::Kind::kSeq)
        tail.children.assign(a.children.begin() + 1, a.children.end());
      if (tail.children.empty())
        return error_at(a.line, a.col, "rule '" + d.name + "' has an alternative that is itself");
      tails.push_back(std::move(tail));
    }
    if (tails.empty()) return Status::ok();
    if (base.empty())
      return error_at(d.line, d.col,
                      "rule '" + d.name + "' never ends: every alternative starts with itself");
    auto alt_of = [](std::vector<Expr> v) {
      if (v.size() == 1) return std::move(v[0]);
      Expr e;
      e.kind = Expr::Kind::kAlt;
      e.children = std::move(v);
      return e;
    };
    Expr loop;
    loop.kind = Expr::Kind::kRepeat;
    loop.min = 0;
    loop.max = -1;
    loop.children.push_back(alt_of(std::move(tails)));
    Expr body;
    body.kind = Expr::Kind::kSeq;
    body.children.push_back(alt_of(std::move(base)));
    body.children.push_back(std::move(loop));
    d.body = std::move(body);
    return Status::ok();
  }

  bool is_rule(const std::string& name) const {
    auto it = defs_.find(name);
    return it != defs_.end() && !it->second.terminal;
  }

  // Whether `e` can match no input (terminals are taken as non-empty: a rule needs one to loop).
  bool nullable(const Expr& e, const std::set<std::string>& nullable_rules) const {
    switch (e.kind) {
      case Expr::Kind::kAlt:
        for (const Expr& c : e.children)
          if (nullable(c, nullable_rules)) return true;
        return e.children.empty();
      case Expr::Kind::kSeq:
        for (const Expr& c : e.children)
          if (!nullable(c, nullable_rules)) return false;
        return true;
      case Expr::Kind::kRepeat:
        return e.min == 0 || nullable(e.children[0], nullable_rules);
      case Expr::Kind::kRef:
        return nullable_rules.count(e.text) > 0;
      default:
        return false;
    }
  }

  // The rules `e` may start with before consuming input.
  void first_rules(const Expr& e, const std::set<std::string>& nullable_rules,
                   std::vector<const Expr*>& out) const {
    if (e.kind == Expr::Kind::kRef) {
      if (is_rule(e.text)) out.push_back(&e);
      return;
    }
    for (const Expr& c : e.children) {
      first_rules(c, nullable_rules, out);
      if (e.kind == Expr::Kind::kSeq && !nullable(c, nullable_rules)) break;
    }
  }

  // Indirect left recursion (a: b "x", b: a "y") cannot be matched: an error naming the cycle.
  Status check_left_recursion() const {
    std::set<std::string> nullable_rules;
    for (bool changed = true; changed;) {
      changed = false;
      for (const auto& [name, d] : defs_)
        if (!d.terminal && !nullable_rules.count(name) && nullable(d.body, nullable_rules))
          changed = nullable_rules.insert(name).second;
    }
    std::map<std::string, int> state;  // 1 on the path, 2 done
    std::vector<std::string> path;
    std::function<Status(const std::string&)> visit = [&](const std::string& name) -> Status {
      state[name] = 1;
      path.push_back(name);
      std::vector<const Expr*> firsts;
      first_rules(defs_.at(name).body, nullable_rules, firsts);
      for (const Expr* ref : firsts) {
        if (state[ref->text] == 1) {
          std::string cycle;
          for (auto it = std::find(path.begin(), path.end(), ref->text); it != path.end(); ++it)
            cycle += *it + " -> ";
          return error_at(ref->line, ref->col,
                          "left recursion through " + cycle + ref->text +
                              " (only direct left recursion, a: a x | y, is supported)");
        }
        if (state[ref->text] == 0) SLUICE_RETURN_IF_ERROR(visit(ref->text));
      }
      path.pop_back();
      state[name] = 2;
      return Status::ok();
    };
    for (const auto& [name, d] : defs_)
      if (!d.terminal && state[name] == 0) SLUICE_RETURN_IF_ERROR(visit(name));
    return Status::ok();
  }

  Result<NodePtr> terminal(const std::string& name, const Expr& at) {
    auto memo = terminals_.find(name);
    if (memo != terminals_.end()) return memo->second;
    if (!visiting_.insert(name).second)
      return error_at(at.line, at.col, "terminal '" + name + "' refers to itself");
    SLUICE_ASSIGN_OR_RETURN(NodePtr n, compile(defs_.at(name).body, true));
    visiting_.erase(name);
    terminals_[name] = n;
    return n;
  }

  Result<NodePtr> regex(const Expr& e) {
    std::string pattern = e.text;
    bool icase = false;
    for (char f : e.flags) {
      if (f == 'i') {
        icase = true;
      } else if (f == 's') {  // '.' also matches a newline
        std::string p;
        bool in_class = false;
        for (size_t i = 0; i < pattern.size(); ++i) {
          const char c = pattern[i];
          if (c == '\\' && i + 1 < pattern.size()) {
            p += c;
            p += pattern[++i];
            continue;
          }
          if (c == '[') in_class = true;
          if (c == ']') in_class = false;
          p += (c == '.' && !in_class) ? std::string("(?:.|\\n)") : std::string(1, c);
        }
        pattern = std::move(p);
      } else if (f != 'u') {
        return error_at(e.line, e.col, std::string("regex flag '") + f + "' is not supported");
      }
    }
    auto node = full_regex(pattern);
    if (!node) return error_at(e.line, e.col, "bad regular expression: " + node.error());
    return icase ? fold_case(*node) : *node;
  }

  Result<NodePtr> compile(const Expr& e, bool in_terminal) {
    NodePtr n;
    switch (e.kind) {
      case Expr::Kind::kAlt:
      case Expr::Kind::kSeq: {
        std::vector<NodePtr> parts;
        for (const Expr& c : e.children) {
          SLUICE_ASSIGN_OR_RETURN(NodePtr p, compile(c, in_terminal));
          parts.push_back(p);
        }
        if (parts.size() == 1) return parts[0];
        return e.kind == Expr::Kind::kAlt ? choice(std::move(parts)) : sequence(std::move(parts));
      }
      case Expr::Kind::kRepeat: {
        SLUICE_ASSIGN_OR_RETURN(NodePtr item, compile(e.children[0], in_terminal));
        return repeat(item, e.min, e.max);
      }
      case Expr::Kind::kLiteral:
        n = e.flags == "i" ? fold_case(literal(e.text)) : literal(e.text);
        break;
      case Expr::Kind::kRange:
        n = utf8_ranges_node({{e.lo, e.hi}});
        break;
      case Expr::Kind::kRegex: {
        SLUICE_ASSIGN_OR_RETURN(n, regex(e));
        break;
      }
      case Expr::Kind::kRef: {
        auto it = defs_.find(e.text);
        const bool term = lark::is_terminal_name(e.text) || e.text.starts_with(kCommonPrefix);
        if (it == defs_.end())
          return error_at(
              e.line, e.col,
              std::string(term ? "undefined terminal '" : "undefined rule '") + e.text + "'");
        if (!it->second.terminal) {
          if (in_terminal)
            return error_at(e.line, e.col, "a terminal cannot refer to rule '" + e.text + "'");
          return rule_ref(rules_.get(), rule_index_.at(e.text));
        }
        SLUICE_ASSIGN_OR_RETURN(n, terminal(e.text, e));
        break;
      }
    }
    // In rules, %ignore'd text may come before every terminal.
    if (!in_terminal && ignore_) return sequence({ignore_, n});
    return n;
  }

  std::map<std::string, Definition> defs_;
  std::map<std::string, int32_t> rule_index_;
  std::map<std::string, NodePtr> terminals_;
  std::set<std::string> visiting_;
  std::shared_ptr<RuleSet> rules_;
  NodePtr ignore_;
};

}  // namespace

Result<NodePtr> lark_grammar(std::string_view text) {
  SLUICE_ASSIGN_OR_RETURN(lark::GrammarAst ast, lark::parse(text));
  return Compiler().run(std::move(ast));
}

Result<NodePtr> full_regex(std::string_view pattern) {
  auto alone = compile_regex(pattern);  // errors point into the pattern as written
  if (!alone) return alone.status();
  return compile_regex("^(?:" + std::string(pattern) + ")$");
}

}  // namespace sluice::structured
