#pragma once
// The interpreter's value: Python's data model as Jinja templates see it. Strings are UTF-8 and
// indexed by code point; dicts keep insertion order; lists, dicts and namespaces are shared
// (reference semantics, like Python objects). A "safe" string is Jinja's Markup.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace sluice::jinja {

class Value;
class Interpreter;

struct CallArgs {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;
};

// Python's Undefined: prints as "", iterates as empty, raises on most other uses.
struct Undefined {
  std::shared_ptr<const std::string> hint;  // "'x' is undefined"; null for a plain undefined
  bool unsafe = false;                      // sandbox: access to this attribute is refused
};
struct NoneValue {};

struct StrValue {
  std::shared_ptr<std::string> s;  // never modified while shared (see append_unique)
  bool safe = false;               // jinja2 Markup
};

struct ListData {
  std::vector<Value> items;
  bool is_tuple = false;
};
struct DictData {
  std::vector<std::pair<Value, Value>> entries;  // insertion order; linear lookup (dicts are small)
  const Value* find(const Value& key) const;
  const Value* find_str(std::string_view key) const;
  void set(Value key, Value value);
};
struct NamespaceData {
  std::vector<std::pair<std::string, Value>> attrs;
  const Value* find(std::string_view name) const;
  void set(const std::string& name, Value value);
};
struct LoopState;  // the `loop` object of a for loop (interpreter.h)
// A one-shot Python iterator (what map/select/selectattr/items/reverse return): always true,
// no len(), and empty once iterated.
struct IterData {
  std::vector<Value> items;
  bool consumed = false;
  std::string type_name = "generator";
};

struct Callable {
  std::string name;
  enum class Kind { kBuiltin, kMacro, kMethod } kind = Kind::kBuiltin;
  std::function<Value(Interpreter&, CallArgs&)> fn;
};

using ListPtr = std::shared_ptr<ListData>;
using DictPtr = std::shared_ptr<DictData>;
using NamespacePtr = std::shared_ptr<NamespaceData>;
using CallablePtr = std::shared_ptr<const Callable>;
using LoopPtr = std::shared_ptr<LoopState>;
using IterPtr = std::shared_ptr<IterData>;

class Value {
 public:
  enum class Type {
    kUndefined,
    kNone,
    kBool,
    kInt,
    kFloat,
    kString,
    kList,
    kDict,
    kNamespace,
    kCallable,
    kLoop,
    kIterator
  };

  Value() : v_(Undefined{}) {}
  static Value none() { return Value(NoneValue{}); }
  static Value undefined(std::string hint, bool unsafe = false);
  Value(bool b) : v_(b) {}                 // NOLINT
  Value(int64_t i) : v_(i) {}              // NOLINT
  Value(int i) : v_(int64_t{i}) {}         // NOLINT
  Value(double f) : v_(f) {}               // NOLINT
  Value(std::string s, bool safe = false)  // NOLINT
      : v_(StrValue{std::make_shared<std::string>(std::move(s)), safe}) {}
  Value(const char* s) : Value(std::string(s)) {}  // NOLINT
  Value(ListPtr l) : v_(std::move(l)) {}           // NOLINT
  Value(DictPtr d) : v_(std::move(d)) {}           // NOLINT
  Value(NamespacePtr n) : v_(std::move(n)) {}      // NOLINT
  Value(CallablePtr c) : v_(std::move(c)) {}       // NOLINT
  Value(LoopPtr l) : v_(std::move(l)) {}           // NOLINT
  Value(IterPtr i) : v_(std::move(i)) {}           // NOLINT
  Value(Undefined u) : v_(std::move(u)) {}         // NOLINT
  Value(NoneValue n) : v_(n) {}                    // NOLINT

  static Value list(std::vector<Value> items = {}, bool is_tuple = false);
  static Value dict();
  static Value iterator(std::vector<Value> items, std::string type_name = "generator");

  Type type() const { return static_cast<Type>(v_.index()); }
  bool is_undefined() const { return type() == Type::kUndefined; }
  bool is_none() const { return type() == Type::kNone; }
  bool is_bool() const { return type() == Type::kBool; }
  bool is_int() const { return type() == Type::kInt; }
  bool is_float() const { return type() == Type::kFloat; }
  bool is_number() const { return is_int() || is_float() || is_bool(); }
  bool is_string() const { return type() == Type::kString; }
  bool is_list() const { return type() == Type::kList; }
  bool is_dict() const { return type() == Type::kDict; }
  bool is_namespace() const { return type() == Type::kNamespace; }
  bool is_callable() const { return type() == Type::kCallable; }
  bool is_loop() const { return type() == Type::kLoop; }
  bool is_iterator() const { return type() == Type::kIterator; }
  bool is_safe() const { return is_string() && std::get<StrValue>(v_).safe; }

  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const { return std::get<int64_t>(v_); }
  double as_float() const { return std::get<double>(v_); }
  const std::string& str() const { return *std::get<StrValue>(v_).s; }
  const ListPtr& list_ptr() const { return std::get<ListPtr>(v_); }
  const std::vector<Value>& items() const { return std::get<ListPtr>(v_)->items; }
  const DictPtr& dict_ptr() const { return std::get<DictPtr>(v_); }
  const NamespacePtr& ns() const { return std::get<NamespacePtr>(v_); }
  const CallablePtr& callable() const { return std::get<CallablePtr>(v_); }
  const LoopPtr& loop() const { return std::get<LoopPtr>(v_); }
  const IterPtr& iter() const { return std::get<IterPtr>(v_); }
  const Undefined& undef() const { return std::get<Undefined>(v_); }
  bool is_tuple() const { return is_list() && list_ptr()->is_tuple; }
  // Appends to a plain string this Value alone holds (a temporary of `a + b + c`); false if the
  // string is shared or Markup, in which case the caller builds a new one.
  bool append_unique(std::string_view tail) {
    auto* sv = std::get_if<StrValue>(&v_);
    if (!sv || sv->safe || sv->s.use_count() != 1) return false;
    sv->s->append(tail);
    return true;
  }

  // Numeric view of bool/int (Python: bool is an int).
  int64_t int_like() const { return is_bool() ? (as_bool() ? 1 : 0) : as_int(); }
  double to_double() const { return is_float() ? as_float() : static_cast<double>(int_like()); }

  // Python truthiness (Undefined is false).
  bool truthy() const;
  // The Python type name ("str", "int", "NoneType", "dict", ...).
  std::string type_name() const;

 private:
  std::variant<Undefined, NoneValue, bool, int64_t, double, StrValue, ListPtr, DictPtr,
               NamespacePtr, CallablePtr, LoopPtr, IterPtr>
      v_;
};

// Python ==, with 1 == 1.0 == True and deep comparison of lists and dicts.
bool py_equal(const Value& a, const Value& b);
// Python str() and repr().
std::string py_str(const Value& v);
std::string py_repr(const Value& v);
void append_str(const Value& v, std::string& out);
// repr() of a float, as Python prints it ("1.0", "1e+16", "0.1").
std::string float_repr(double f);
// The "'dict object'"-style name jinja2 uses in undefined messages.
std::string object_type_repr(const Value& v);

}  // namespace sluice::jinja
