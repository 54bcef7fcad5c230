// JSON Schema objects and arrays. Structural whitespace: whitespace() after '{', '[' and ',' and
// before '}' and ']'; nothing before ':' or ','; at most one space after ':'.
#include <algorithm>

#include "structured/json_schema_internal.h"
#include "structured/node_nfa.h"
#include "structured/regex_compiler.h"

namespace sluice::structured {

namespace {

using json = nlohmann::ordered_json;

constexpr int32_t kInlineRepeatLimit = 4;   // bounded repeats above this call the item as a rule
constexpr size_t kInlineOptionalProps = 6;  // more all-optional properties: values become rules

NodePtr comma() {
  static const NodePtr c = sequence({literal(","), whitespace()});
  return c;
}

// A JSON string key whose decoded text is none of `names`.
Result<NodePtr> key_not_in(const std::vector<std::string>& names) {
  ByteDfa any = node_to_dfa(*repeat(any_code_point(), 0, -1)).value();
  if (!names.empty()) {
    std::vector<NodePtr> lits;
    for (const std::string& n : names) lits.push_back(literal(n));
    SLUICE_ASSIGN_OR_RETURN(ByteDfa declared, node_to_dfa(*choice(std::move(lits))));
    SLUICE_ASSIGN_OR_RETURN(any, difference(any, declared));
  }
  return sequence({literal("\""), automaton(std::move(any), true), literal("\"")});
}

}  // namespace

NodePtr SchemaCompiler::as_rule(NodePtr body, const std::string& name) {
  rules_->bodies.push_back(std::move(body));
  rules_->names.push_back(name);
  return rule_ref(rules_.get(), static_cast<int32_t>(rules_->bodies.size()) - 1);
}

Result<NodePtr> SchemaCompiler::compile_array(const json& s, const std::string& path) {
  if (s.contains("uniqueItems") &&
      !(s["uniqueItems"].is_boolean() && !s["uniqueItems"].get<bool>()))
    return schema_error("unsupported keyword 'uniqueItems'", path);
  std::vector<NodePtr> prefix;
  NodePtr items;  // null: no items beyond the prefix
  auto compile_list = [&](const json& list, const std::string& key) -> Status {
    for (size_t i = 0; i < list.size(); ++i) {
      SLUICE_ASSIGN_OR_RETURN(NodePtr n,
                              compile(list[i], path + "/" + key + "/" + std::to_string(i)));
      prefix.push_back(n);
    }
    return Status::ok();
  };
  if (s.contains("prefixItems")) {
    if (!s["prefixItems"].is_array()) return schema_error("'prefixItems' must be an array", path);
    SLUICE_RETURN_IF_ERROR(compile_list(s["prefixItems"], "prefixItems"));
  }
  std::string extra_key;
  if (s.contains("items") && s["items"].is_array()) {  // draft 7 tuple form
    if (!prefix.empty()) return schema_error("both 'prefixItems' and array-valued 'items'", path);
    SLUICE_RETURN_IF_ERROR(compile_list(s["items"], "items"));
    if (s.contains("additionalItems")) extra_key = "additionalItems";
  } else if (s.contains("items")) {
    extra_key = "items";
  } else if (prefix.empty()) {
    items = any_json_value();
  }
  if (!extra_key.empty()) {
    const json& e = s[extra_key];
    if (!(e.is_boolean() && !e.get<bool>())) {
      SLUICE_ASSIGN_OR_RETURN(items, compile(e, path + "/" + extra_key));
    }
  }
  int32_t min = 0, max = -1;
  for (const char* k : {"minItems", "maxItems"}) {
    if (!s.contains(k)) continue;
    if (!s[k].is_number_integer() || s[k].get<int64_t>() < 0)
      return schema_error(std::string("'") + k + "' must be a non-negative integer", path);
    const int32_t v = static_cast<int32_t>(std::min<int64_t>(s[k].get<int64_t>(), 100000));
    (std::string(k) == "minItems" ? min : max) = v;
  }
  const int32_t p = static_cast<int32_t>(prefix.size());
  if (!items) max = max < 0 ? p : std::min(max, p);
  if (max >= 0 && min > max) return schema_error("no array length satisfies the bounds", path);
  if (items && max >= 0 && max - std::max(p, min) > kInlineRepeatLimit)
    items = as_rule(items, path + "/items");

  // Elements from position i on, given `required` elements in all.
  auto tail = [&](auto&& self, int32_t i, int32_t required) -> NodePtr {
    if (max >= 0 && i >= max) return sequence({});
    NodePtr sep = i == 0 ? sequence({}) : comma();
    if (i < p) {
      NodePtr elem = sequence({sep, prefix[i], self(self, i + 1, required)});
      return i < required ? elem : optional(elem);
    }
    const int32_t lo = std::max(0, required - i), hi = max < 0 ? -1 : max - i;
    if (i > 0) return repeat(sequence({comma(), items}), lo, hi);
    NodePtr first = sequence(
        {items, repeat(sequence({comma(), items}), std::max(0, lo - 1), hi < 0 ? -1 : hi - 1)});
    return lo == 0 ? optional(first) : first;
  };
  NodePtr ws = whitespace();
  std::vector<NodePtr> alts;
  if (min == 0) alts.push_back(sequence({literal("["), ws, literal("]")}));
  if (max != 0)
    alts.push_back(sequence({literal("["), ws, tail(tail, 0, std::max(min, 1)), ws, literal("]")}));
  return alts.size() == 1 ? alts[0] : choice(std::move(alts));
}

Result<NodePtr> SchemaCompiler::compile_object(const json& s, const std::string& path) {
  struct Prop {
    std::string name;
    NodePtr value;
    bool required;
  };
  std::vector<Prop> props;
  std::vector<std::string> names;
  if (s.contains("properties")) {
    const json& ps = s["properties"];
    if (!ps.is_object()) return schema_error("'properties' must be an object", path);
    for (auto it = ps.begin(); it != ps.end(); ++it) {
      names.push_back(it.key());
      if (it.value().is_boolean() && !it.value().get<bool>()) continue;  // must be absent
      SLUICE_ASSIGN_OR_RETURN(NodePtr v, compile(it.value(), path + "/properties/" + it.key()));
      props.push_back({it.key(), v, false});
    }
  }
  // additionalProperties: absent = false when `properties` is given (strict), else any.
  NodePtr additional;
  if (s.contains("additionalProperties")) {
    const json& a = s["additionalProperties"];
    if (!(a.is_boolean() && !a.get<bool>())) {
      SLUICE_ASSIGN_OR_RETURN(additional, compile(a, path + "/additionalProperties"));
    }
  } else if (!s.contains("properties")) {
    additional = any_json_value();
  }
  if (s.contains("required")) {
    if (!s["required"].is_array()) return schema_error("'required' must be an array", path);
    for (const json& r : s["required"]) {
      if (!r.is_string()) return schema_error("'required' must list strings", path);
      const std::string name = r.get<std::string>();
      auto it =
          std::find_if(props.begin(), props.end(), [&](const Prop& p) { return p.name == name; });
      if (it != props.end()) {
        it->required = true;
      } else if (std::find(names.begin(), names.end(), name) != names.end() || !additional) {
        return schema_error("required property '" + name + "' cannot be present", path);
      } else {
        props.push_back({name, additional, true});
        names.push_back(name);
      }
    }
  }
  const size_t n = props.size();
  const bool all_optional =
      std::none_of(props.begin(), props.end(), [](const Prop& p) { return p.required; });
  if (all_optional && n > kInlineOptionalProps)
    for (Prop& p : props) p.value = as_rule(p.value, path + "/properties/" + p.name);
  std::vector<NodePtr> members;
  for (const Prop& p : props)
    members.push_back(
        sequence({literal(json(p.name).dump()), literal(":"), colon_whitespace(), p.value}));
  NodePtr extra, extras_rest = sequence({});
  if (additional) {
    SLUICE_ASSIGN_OR_RETURN(NodePtr key, key_not_in(names));
    extra = sequence({key, literal(":"), colon_whitespace(), additional});
    extras_rest = repeat(sequence({comma(), extra}), 0, -1);
  }
  NodePtr ws = whitespace();
  if (!all_optional) {
    std::vector<NodePtr> body;
    size_t r = 0;
    while (!props[r].required) body.push_back(optional(sequence({members[r], comma()}))), ++r;
    body.push_back(members[r]);
    for (size_t i = r + 1; i < n; ++i) {
      NodePtr m = sequence({comma(), members[i]});
      body.push_back(props[i].required ? m : optional(m));
    }
    body.push_back(extras_rest);
    return sequence({literal("{"), ws, sequence(std::move(body)), ws, literal("}")});
  }
  std::vector<NodePtr> branches;
  for (size_t j = 0; j < n; ++j) {
    std::vector<NodePtr> parts = {members[j]};
    for (size_t i = j + 1; i < n; ++i) parts.push_back(optional(sequence({comma(), members[i]})));
    parts.push_back(extras_rest);
    branches.push_back(sequence(std::move(parts)));
  }
  if (extra) branches.push_back(sequence({extra, extras_rest}));
  std::vector<NodePtr> alts = {sequence({literal("{"), ws, literal("}")})};
  if (!branches.empty())
    alts.push_back(sequence({literal("{"), ws, choice(std::move(branches)), ws, literal("}")}));
  return alts.size() == 1 ? alts[0] : choice(std::move(alts));
}

}  // namespace sluice::structured
