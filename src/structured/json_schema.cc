// JSON Schema -> node tree. See grammar.h for the policy; in short:
//  - additionalProperties absent = false (strict, like xgrammar), except for an object schema
//    with no `properties` at all, which accepts any members;
//  - items absent after prefixItems = no further items; oneOf is compiled as anyOf;
//  - keywords outside the supported set are errors naming the keyword and its JSON pointer.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "structured/json_schema_internal.h"
#include "structured/node_nfa.h"
#include "structured/number_ranges.h"
#include "structured/regex_compiler.h"
#include "structured/string_formats.h"

namespace sluice::structured {

namespace {

using json = nlohmann::ordered_json;

const std::set<std::string> kAnnotations = {
    "title",    "description",   "default",         "examples",        "$schema", "$id",
    "$comment", "deprecated",    "readOnly",        "writeOnly",       "$defs",   "definitions",
    "$anchor",  "discriminator", "contentEncoding", "contentMediaType"};
const std::set<std::string> kSupported = {"type",
                                          "enum",
                                          "const",
                                          "properties",
                                          "required",
                                          "additionalProperties",
                                          "items",
                                          "prefixItems",
                                          "additionalItems",
                                          "minItems",
                                          "maxItems",
                                          "uniqueItems",
                                          "anyOf",
                                          "oneOf",
                                          "allOf",
                                          "$ref",
                                          "minLength",
                                          "maxLength",
                                          "pattern",
                                          "format",
                                          "minimum",
                                          "maximum",
                                          "exclusiveMinimum",
                                          "exclusiveMaximum"};
const std::vector<std::string> kTypes = {"null",   "boolean", "object", "array",
                                         "number", "integer", "string"};

std::string pointer_escape(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

std::string where(const std::string& path) {
  return path.empty() ? "/" : path;
}

bool value_has_type(const json& v, const std::string& t) {
  if (t == "null") return v.is_null();
  if (t == "boolean") return v.is_boolean();
  if (t == "object") return v.is_object();
  if (t == "array") return v.is_array();
  if (t == "string") return v.is_string();
  if (t == "number") return v.is_number();
  if (t == "integer")
    return v.is_number_integer() ||
           (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
  return false;
}

// A JSON number bound -> exact decimal integer, rounding non-integers toward +inf or -inf.
std::optional<DecimalInt> to_decimal(const json& v, bool round_up, bool* was_integer) {
  if (v.is_number_unsigned()) {
    *was_integer = true;
    return DecimalInt{false, std::to_string(v.get<uint64_t>())};
  }
  if (v.is_number_integer()) {
    const int64_t x = v.get<int64_t>();
    *was_integer = true;
    if (x < 0) {
      std::string d = std::to_string(x);
      return DecimalInt{true, d.substr(1)};
    }
    return DecimalInt{false, std::to_string(x)};
  }
  const double d = v.get<double>();
  if (!std::isfinite(d)) return std::nullopt;
  const double r = round_up ? std::ceil(d) : std::floor(d);
  *was_integer = (r == d);
  char buf[400];
  std::snprintf(buf, sizeof buf, "%.0f", std::fabs(r));
  return DecimalInt{r < 0, buf};
}

}  // namespace

Status schema_error(const std::string& what, const std::string& path) {
  return Status::error("json_schema", what + " at " + where(path));
}

SchemaCompiler::SchemaCompiler(const json& root)
    : root_(root), rules_(std::make_shared<RuleSet>()) {}

Result<NodePtr> SchemaCompiler::compile_root() {
  SLUICE_ASSIGN_OR_RETURN(NodePtr body, compile(root_, ""));
  return scope(rules_, body);
}

Result<NodePtr> SchemaCompiler::compile(const json& s, const std::string& path) {
  if (s.is_boolean()) return s.get<bool>() ? any_json_value() : nothing();
  if (!s.is_object()) return schema_error("a schema must be an object or a boolean", path);
  for (auto it = s.begin(); it != s.end(); ++it) {
    const std::string& k = it.key();
    if (!kAnnotations.count(k) && !kSupported.count(k))
      return schema_error("unsupported keyword '" + k + "'", path);
  }
  // Combinators and references take the whole schema: other constraints beside them are errors.
  for (const char* comb : {"$ref", "anyOf", "oneOf", "allOf"}) {
    if (!s.contains(comb)) continue;
    for (auto it = s.begin(); it != s.end(); ++it)
      if (it.key() != comb && !kAnnotations.count(it.key()))
        return schema_error("unsupported keyword '" + it.key() + "' alongside '" + comb + "'",
                            path);
    const json& v = s[comb];
    if (std::string(comb) == "$ref") return compile_ref(v, path);
    const std::string sub = path + "/" + comb;
    if (!v.is_array() || v.empty())
      return schema_error("'" + std::string(comb) + "' needs a non-empty array", path);
    if (std::string(comb) == "allOf") {
      if (v.size() != 1)
        return schema_error("unsupported keyword 'allOf' (more than one schema)", path);
      return compile(v[0], sub + "/0");
    }
    std::vector<NodePtr> alts;
    for (size_t i = 0; i < v.size(); ++i) {
      SLUICE_ASSIGN_OR_RETURN(NodePtr a, compile(v[i], sub + "/" + std::to_string(i)));
      alts.push_back(a);
    }
    return alts.size() == 1 ? alts[0] : choice(std::move(alts));
  }
  // Which types.
  std::vector<std::string> types;
  if (s.contains("type")) {
    const json& t = s["type"];
    std::vector<json> list =
        t.is_array() ? std::vector<json>(t.begin(), t.end()) : std::vector<json>{t};
    for (const json& x : list) {
      if (!x.is_string() ||
          std::find(kTypes.begin(), kTypes.end(), x.get<std::string>()) == kTypes.end())
        return schema_error("invalid 'type' " + x.dump(), path);
      types.push_back(x.get<std::string>());
    }
  }
  if (s.contains("enum") || s.contains("const")) return compile_enum(s, types, path);
  if (types.empty()) {
    auto has = [&](std::initializer_list<const char*> keys) {
      for (const char* k : keys)
        if (s.contains(k)) return true;
      return false;
    };
    if (has({"properties", "required", "additionalProperties"})) types.push_back("object");
    if (has({"items", "prefixItems", "minItems", "maxItems", "additionalItems"}))
      types.push_back("array");
    if (has({"minLength", "maxLength", "pattern", "format"})) types.push_back("string");
    if (has({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}))
      types.push_back("number");
    if (types.empty()) return any_json_value();
  }
  const bool has_number = std::find(types.begin(), types.end(), "number") != types.end();
  std::vector<NodePtr> alts;
  for (const std::string& t : types) {
    if (t == "null")
      alts.push_back(literal("null"));
    else if (t == "boolean")
      alts.push_back(choice({literal("true"), literal("false")}));
    else if (t == "string") {
      SLUICE_ASSIGN_OR_RETURN(NodePtr n, compile_string(s, path));
      alts.push_back(n);
    } else if (t == "number" || (t == "integer" && !has_number)) {
      SLUICE_ASSIGN_OR_RETURN(NodePtr n, compile_number(s, t == "integer", path));
      alts.push_back(n);
    } else if (t == "array") {
      SLUICE_ASSIGN_OR_RETURN(NodePtr n, compile_array(s, path));
      alts.push_back(n);
    } else if (t == "object") {
      SLUICE_ASSIGN_OR_RETURN(NodePtr n, compile_object(s, path));
      alts.push_back(n);
    }
  }
  return alts.size() == 1 ? alts[0] : choice(std::move(alts));
}

Result<NodePtr> SchemaCompiler::compile_ref(const json& ref, const std::string& path) {
  if (!ref.is_string()) return schema_error("'$ref' must be a string", path);
  const std::string r = ref.get<std::string>();
  auto it = ref_rules_.find(r);
  if (it != ref_rules_.end()) return rule_ref(rules_.get(), it->second);
  if (r.empty() || r[0] != '#')
    return schema_error("unsupported keyword '$ref' to '" + r + "' (only local '#...' references)",
                        path);
  const json* target = nullptr;
  try {
    target = &root_.at(json::json_pointer(r.substr(1)));
  } catch (const std::exception&) {
    return schema_error("unresolvable '$ref' '" + r + "'", path);
  }
  const int32_t index = static_cast<int32_t>(rules_->bodies.size());
  rules_->bodies.push_back(nothing());
  rules_->names.push_back(r);
  ref_rules_[r] = index;
  SLUICE_ASSIGN_OR_RETURN(NodePtr body, compile(*target, r.substr(1)));
  rules_->bodies[index] = body;
  return rule_ref(rules_.get(), index);
}

Result<NodePtr> SchemaCompiler::compile_enum(const json& s, const std::vector<std::string>& types,
                                             const std::string& path) {
  std::vector<json> values;
  if (s.contains("const")) values.push_back(s["const"]);
  if (s.contains("enum")) {
    if (!s["enum"].is_array()) return schema_error("'enum' must be an array", path);
    if (s.contains("const"))
      return schema_error("unsupported keyword 'enum' alongside 'const'", path);
    for (const json& v : s["enum"]) values.push_back(v);
  }
  std::vector<NodePtr> alts;
  std::set<std::string> seen;
  for (const json& v : values) {
    bool ok = types.empty();
    for (const std::string& t : types) ok = ok || value_has_type(v, t);
    const std::string text = v.dump();
    if (ok && seen.insert(text).second) alts.push_back(literal(text));
  }
  if (alts.empty()) return schema_error("no 'enum'/'const' value matches the schema", path);
  return alts.size() == 1 ? alts[0] : choice(std::move(alts));
}

Result<NodePtr> SchemaCompiler::compile_string(const json& s, const std::string& path) {
  const bool constrained = s.contains("minLength") || s.contains("maxLength") ||
                           s.contains("pattern") || s.contains("format");
  if (!constrained) return json_string();
  ByteDfa content = node_to_dfa(*repeat(any_code_point(), 0, -1)).value();
  auto apply_regex = [&](const std::string& regex, const std::string& what) -> Status {
    auto node = compile_regex(regex);
    if (!node.ok()) return schema_error("unsupported '" + what + "': " + node.error(), path);
    auto dfa = node_to_dfa(**node);
    if (!dfa.ok()) return schema_error("'" + what + "' too complex: " + dfa.error(), path);
    auto both = intersect(content, *dfa);
    if (!both.ok()) return schema_error(both.error(), path);
    content = *both;
    return Status::ok();
  };
  if (s.contains("pattern")) {
    if (!s["pattern"].is_string()) return schema_error("'pattern' must be a string", path);
    SLUICE_RETURN_IF_ERROR(apply_regex(s["pattern"].get<std::string>(), "pattern"));
  }
  if (s.contains("format")) {
    if (!s["format"].is_string()) return schema_error("'format' must be a string", path);
    const std::string f = s["format"].get<std::string>();
    auto regex = format_regex(f);
    if (!regex) return schema_error("unsupported keyword 'format' value '" + f + "'", path);
    SLUICE_RETURN_IF_ERROR(apply_regex(*regex, "format"));
  }
  int32_t min_len = 0, max_len = -1;
  for (const char* k : {"minLength", "maxLength"}) {
    if (!s.contains(k)) continue;
    const json& v = s[k];
    if (!v.is_number_integer() || v.get<int64_t>() < 0)
      return schema_error(std::string("'") + k + "' must be a non-negative integer", path);
    const int64_t x = std::min<int64_t>(v.get<int64_t>(), 100000);
    (std::string(k) == "minLength" ? min_len : max_len) = static_cast<int32_t>(x);
  }
  if (min_len > 0 || max_len >= 0) {
    auto limited = limit_code_points(content, min_len, max_len);
    if (!limited.ok()) return schema_error(limited.error(), path);
    content = *limited;
  }
  if (content.states.size() == 1 && content.states[0].edges.empty() && !content.states[0].accepting)
    return schema_error("no string satisfies the string constraints", path);
  return sequence({literal("\""), automaton(std::move(content), true), literal("\"")});
}

Result<NodePtr> SchemaCompiler::compile_number(const json& s, bool integer,
                                               const std::string& path) {
  std::optional<NumberBound> lo, hi;
  auto read = [&](const char* key, bool is_lower, bool exclusive) -> Status {
    if (!s.contains(key)) return Status::ok();
    const json& v = s[key];
    if (v.is_boolean()) return Status::ok();  // draft-4 flags, read below
    if (!v.is_number()) return schema_error(std::string("'") + key + "' must be a number", path);
    bool was_integer = false;
    auto d = to_decimal(v, /*round_up=*/is_lower, &was_integer);
    if (!d) return schema_error(std::string("'") + key + "' is not finite", path);
    NumberBound b{*d, !exclusive || !was_integer};
    std::optional<NumberBound>& slot = is_lower ? lo : hi;
    const bool tighter =
        !slot || (is_lower ? compare(b.value, slot->value) > 0 ||
                                 (compare(b.value, slot->value) == 0 && !b.inclusive)
                           : compare(b.value, slot->value) < 0 ||
                                 (compare(b.value, slot->value) == 0 && !b.inclusive));
    if (tighter) slot = b;
    return Status::ok();
  };
  SLUICE_RETURN_IF_ERROR(
      read("minimum", true,
           s.value("exclusiveMinimum", json()).is_boolean() && s["exclusiveMinimum"].get<bool>()));
  SLUICE_RETURN_IF_ERROR(
      read("maximum", false,
           s.value("exclusiveMaximum", json()).is_boolean() && s["exclusiveMaximum"].get<bool>()));
  SLUICE_RETURN_IF_ERROR(read("exclusiveMinimum", true, true));
  SLUICE_RETURN_IF_ERROR(read("exclusiveMaximum", false, true));
  if (integer) {
    std::optional<DecimalInt> ilo, ihi;
    if (lo) ilo = lo->inclusive ? lo->value : plus_one(lo->value);
    if (hi) ihi = hi->inclusive ? hi->value : minus_one(hi->value);
    if (ilo && ihi && compare(*ilo, *ihi) > 0)
      return schema_error("no integer within the bounds", path);
    return integer_range(ilo, ihi);
  }
  if (!lo && !hi) return json_number();
  return number_range(lo, hi);
}

Result<NodePtr> json_schema(const nlohmann::ordered_json& schema) {
  return SchemaCompiler(schema).compile_root();
}

}  // namespace sluice::structured
