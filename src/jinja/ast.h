#pragma once
// Template syntax tree: expressions and statements as jinja2's parser builds them.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "jinja/value.h"

namespace sluice::jinja {

using FilterFn = Value (*)(Interpreter&, const Value& input, CallArgs& args);
using TestFn = bool (*)(Interpreter&, const Value& input, CallArgs& args);

enum class ExprKind : uint8_t {
  kConst,
  kName,
  kNSRef,
  kGetattr,
  kGetitem,
  kSlice,
  kCall,
  kFilter,
  kTest,
  kNeg,
  kPos,
  kNot,
  kBinary,
  kConcat,
  kAnd,
  kOr,
  kCompare,
  kCond,
  kList,
  kTuple,
  kDict,
};
enum class BinOp : uint8_t { kAdd, kSub, kMul, kDiv, kFloorDiv, kMod, kPow };
enum class CmpOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kNotIn };

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  ExprKind kind;
  int line = 0;
  Value value;                 // kConst
  std::string name;            // kName / kNSRef (the namespace) / kGetattr (attr) / kFilter / kTest
  std::string attr;            // kNSRef: the attribute
  ExprPtr a, b, c;             // operands; kSlice: start, stop, step; kCond: test, then, else
  std::vector<ExprPtr> items;  // kList / kTuple / kConcat; call positional args
  std::vector<std::pair<std::string, ExprPtr>> kwargs;  // call keyword args
  ExprPtr dyn_args, dyn_kwargs;                         // *args / **kwargs
  std::vector<std::pair<CmpOp, ExprPtr>> ops;           // kCompare: a op1 x1 op2 x2 ...
  std::vector<std::pair<ExprPtr, ExprPtr>> pairs;       // kDict
  BinOp op = BinOp::kAdd;
  FilterFn filter = nullptr;  // resolved at parse time (null: unknown, fails when evaluated)
  TestFn test = nullptr;

  Expr(ExprKind k, int l) : kind(k), line(l) {}
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class StmtKind : uint8_t {
  kText,
  kOutput,
  kIf,
  kFor,
  kSet,
  kSetBlock,
  kMacro,
  kCallBlock,
  kFilterBlock,
  kWith,
  kBreak,
  kContinue,
  kScope,
  kUnsupported,
};

struct Stmt {
  StmtKind kind;
  int line = 0;
  std::string text;  // kText; kUnsupported: the tag name
  ExprPtr expr;      // kOutput / kSet value / kFor iterable / kCallBlock call / filters
  ExprPtr target;    // kFor / kSet / kSetBlock
  ExprPtr cond;      // kFor: "for x in y if cond"
  std::vector<std::pair<ExprPtr, Body>> branches;  // kIf: if / elif
  Body body, else_body;
  bool recursive = false;
  // kMacro / kCallBlock
  std::string name;
  std::vector<std::string> params;
  std::vector<ExprPtr> defaults;  // for the last defaults.size() params
  bool uses_caller = false, uses_varargs = false, uses_kwargs = false;
  // kWith
  std::vector<ExprPtr> targets;
  std::vector<ExprPtr> values;

  Stmt(StmtKind k, int l) : kind(k), line(l) {}
};

}  // namespace sluice::jinja
