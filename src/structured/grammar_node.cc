// Builders for the node tree: public ones (grammar.h) and internal ones (grammar_node.h).
#include "structured/grammar_node.h"

#include "structured/number_ranges.h"

namespace sluice::structured {

namespace {

constexpr int kMaxIndentBytes = 20;  // spaces/tabs after the one newline whitespace() allows

std::shared_ptr<GrammarNode> make(GrammarNode::Kind kind) {
  auto n = std::make_shared<GrammarNode>();
  n->kind = kind;
  return n;
}

ByteSet single(uint8_t b) {
  ByteSet s;
  s.set(b);
  return s;
}

ByteSet range_set(int lo, int hi) {
  ByteSet s;
  for (int b = lo; b <= hi; ++b) s.set(b);
  return s;
}

}  // namespace

NodePtr literal(std::string bytes) {
  std::vector<ByteSet> classes;
  for (char c : bytes) classes.push_back(single(static_cast<uint8_t>(c)));
  return byte_classes(std::move(classes));
}

NodePtr sequence(std::vector<NodePtr> parts) {
  auto n = make(GrammarNode::Kind::kSequence);
  n->children = std::move(parts);
  return n;
}

NodePtr choice(std::vector<NodePtr> alternatives) {
  auto n = make(GrammarNode::Kind::kChoice);
  n->children = std::move(alternatives);
  return n;
}

NodePtr repeat(NodePtr item, int32_t min, int32_t max) {
  auto n = make(GrammarNode::Kind::kRepeat);
  n->children = {std::move(item)};
  n->min = min < 0 ? 0 : min;
  n->max = max;
  return n;
}

NodePtr whitespace() {
  // Nothing, one space, or one newline followed by at most kMaxIndentBytes spaces/tabs.
  static const NodePtr ws = optional(
      choice({literal(" "), sequence({literal("\n"), repeat(byte_class(single(' ') | single('\t')),
                                                            0, kMaxIndentBytes)})}));
  return ws;
}

NodePtr colon_whitespace() {
  static const NodePtr ws = optional(literal(" "));
  return ws;
}

NodePtr text_until(std::string terminator) {
  return automaton(text_until_dfa(terminator), false);
}

NodePtr byte_class(const ByteSet& set) {
  return byte_classes({set});
}
NodePtr byte_range(uint8_t lo, uint8_t hi) {
  return byte_class(range_set(lo, hi));
}

NodePtr byte_classes(std::vector<ByteSet> classes) {
  auto n = make(GrammarNode::Kind::kBytes);
  n->classes = std::move(classes);
  return n;
}

NodePtr optional(NodePtr item) {
  return repeat(std::move(item), 0, 1);
}
NodePtr nothing() {
  return choice({});
}

NodePtr automaton(ByteDfa dfa, bool json_escape) {
  auto n = make(GrammarNode::Kind::kAutomaton);
  n->dfa = std::make_shared<const ByteDfa>(std::move(dfa));
  n->json_escape = json_escape;
  return n;
}

NodePtr rule_ref(const RuleSet* rules, int32_t index) {
  auto n = make(GrammarNode::Kind::kRef);
  n->rules = rules;
  n->rule_index = index;
  return n;
}

NodePtr scope(std::shared_ptr<RuleSet> rules, NodePtr body) {
  auto n = make(GrammarNode::Kind::kScope);
  n->owned_rules = std::move(rules);
  n->children = {std::move(body)};
  return n;
}

NodePtr utf8_multibyte_char() {
  static const NodePtr c = choice({
      byte_classes({range_set(0xC2, 0xDF), range_set(0x80, 0xBF)}),
      byte_classes({single(0xE0), range_set(0xA0, 0xBF), range_set(0x80, 0xBF)}),
      byte_classes({range_set(0xE1, 0xEC), range_set(0x80, 0xBF), range_set(0x80, 0xBF)}),
      byte_classes({single(0xED), range_set(0x80, 0x9F), range_set(0x80, 0xBF)}),
      byte_classes({range_set(0xEE, 0xEF), range_set(0x80, 0xBF), range_set(0x80, 0xBF)}),
      byte_classes(
          {single(0xF0), range_set(0x90, 0xBF), range_set(0x80, 0xBF), range_set(0x80, 0xBF)}),
      byte_classes({range_set(0xF1, 0xF3), range_set(0x80, 0xBF), range_set(0x80, 0xBF),
                    range_set(0x80, 0xBF)}),
      byte_classes(
          {single(0xF4), range_set(0x80, 0x8F), range_set(0x80, 0xBF), range_set(0x80, 0xBF)}),
  });
  return c;
}

NodePtr json_string() {
  static const NodePtr s = [] {
    ByteSet plain = range_set(0x20, 0x7F);
    plain.reset('"');
    plain.reset('\\');
    ByteSet hex = range_set('0', '9') | range_set('a', 'f') | range_set('A', 'F');
    ByteSet simple_escape;
    for (char c : std::string("\"\\/bfnrt")) simple_escape.set(static_cast<uint8_t>(c));
    NodePtr escape = sequence(
        {literal("\\"),
         choice({byte_class(simple_escape), byte_classes({single('u'), hex, hex, hex, hex})})});
    NodePtr ch = choice({byte_class(plain), escape, utf8_multibyte_char()});
    return sequence({literal("\""), repeat(ch, 0, -1), literal("\"")});
  }();
  return s;
}

NodePtr json_number() {
  static const NodePtr n = [] {
    // Digits are capped (number_ranges.h) so a model cannot emit them until max_tokens.
    NodePtr fraction = repeat(byte_range('0', '9'), 1, kMaxFractionDigits);
    NodePtr exponent = repeat(byte_range('0', '9'), 1, kMaxExponentDigits);
    NodePtr integer = choice(
        {literal("0"),
         sequence({byte_range('1', '9'), repeat(byte_range('0', '9'), 0, kMaxIntegerDigits - 1)})});
    ByteSet e = single('e') | single('E');
    ByteSet sign = single('+') | single('-');
    return sequence({optional(literal("-")), integer, optional(sequence({literal("."), fraction})),
                     optional(sequence({byte_class(e), optional(byte_class(sign)), exponent}))});
  }();
  return n;
}

namespace {

// value := object | array | string | number | true | false | null, with rules for the two
// recursive kinds; everything else is inlined at each use so strings stay inside one rule.
std::shared_ptr<RuleSet> json_value_rules() {
  static const std::shared_ptr<RuleSet> rules = [] {
    auto r = std::make_shared<RuleSet>();
    r->names = {"object", "array"};
    NodePtr object = rule_ref(r.get(), 0), array = rule_ref(r.get(), 1);
    NodePtr value = choice({object, array, json_string(), json_number(), literal("true"),
                            literal("false"), literal("null")});
    NodePtr ws = whitespace();
    NodePtr member = sequence({json_string(), literal(":"), colon_whitespace(), value});
    r->bodies.push_back(sequence(
        {literal("{"), ws,
         optional(sequence({member, repeat(sequence({literal(","), ws, member}), 0, -1), ws})),
         literal("}")}));
    r->bodies.push_back(sequence(
        {literal("["), ws,
         optional(sequence({value, repeat(sequence({literal(","), ws, value}), 0, -1), ws})),
         literal("]")}));
    return r;
  }();
  return rules;
}

}  // namespace

NodePtr any_json_value() {
  auto r = json_value_rules();
  return scope(r, choice({rule_ref(r.get(), 0), rule_ref(r.get(), 1), json_string(), json_number(),
                          literal("true"), literal("false"), literal("null")}));
}

NodePtr recursive(const std::function<NodePtr(const NodePtr& self)>& body) {
  auto r = std::make_shared<RuleSet>();
  r->names = {"recursive"};
  r->bodies.push_back(body(rule_ref(r.get(), 0)));
  return scope(r, rule_ref(r.get(), 0));
}

NodePtr any_json_object() {
  auto r = json_value_rules();
  return scope(r, rule_ref(r.get(), 0));
}

}  // namespace sluice::structured
