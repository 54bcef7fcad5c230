#pragma once
// Grammars over bytes for constrained decoding: JSON Schema / JSON mode / tool-call wrappers are
// built as a tree of GrammarNodes, compiled once into an immutable Grammar (shared by every request
// that uses it), and driven token by token by one GrammarMatcher per sequence.
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"

namespace sluice::structured {

struct GrammarNode;
using NodePtr = std::shared_ptr<const GrammarNode>;

// --- building (cheap; no tokenizer involved) ---
NodePtr literal(std::string bytes);                      // exactly these bytes
NodePtr sequence(std::vector<NodePtr> parts);            // parts in order
NodePtr choice(std::vector<NodePtr> alternatives);       // any one of them
NodePtr repeat(NodePtr item, int32_t min, int32_t max);  // max < 0: unbounded
// JSON whitespace, bounded: nothing, one space, or one newline then at most 20 spaces/tabs.
NodePtr whitespace();
NodePtr text_until(std::string terminator);  // any bytes not containing terminator, then it
// A node that contains itself: body(self), where self stands for the whole (nested values of
// any depth). Compiled as a rule, so it costs one copy however deep the input nests.
NodePtr recursive(const std::function<NodePtr(const NodePtr& self)>& body);
// A JSON value valid under `schema` (JSON Schema; `true`/{} = any value). Error names the
// unsupported keyword or the invalid part, e.g. "[json_schema] unsupported keyword 'not' at /x".
// Policy (generation is always a subset of what the schema accepts):
//  - additionalProperties absent = false when `properties` is given (strict, like xgrammar);
//    an object schema without `properties` accepts any members. items absent after prefixItems
//    = no more items. Properties appear in schema order; required always, optional optionally.
//  - oneOf is compiled as anyOf (keep its branches disjoint). allOf only with one schema.
//  - Supported: type (incl. arrays), enum, const, properties, required, additionalProperties,
//    items, prefixItems, additionalItems, minItems, maxItems, uniqueItems:false, anyOf, oneOf,
//    $ref/$defs/definitions (local, recursive), minLength, maxLength, pattern (regex subset, see
//    regex_compiler.h), format (date, time, date-time, email, uuid, ipv4, uri, hostname),
//    minimum, maximum, exclusiveMinimum, exclusiveMaximum (integers exact; non-integer bounds
//    of numbers rounded inward, no exponent when bounded). Annotations are ignored.
//  - Whitespace: whitespace() after '{' '[' ',' and before '}' ']'; none before ':' or ','; at
//    most one space after ':'; none around the top-level value.
Result<NodePtr> json_schema(const nlohmann::ordered_json& schema);
NodePtr any_json_object();  // JSON mode: any object

// Immutable compiled form of a node tree (compiled_grammar.h). Thread-safe to share; it keeps a
// lazily filled token-mask cache per TokenVocab. Errors on left recursion.
class Grammar;
Result<std::shared_ptr<const Grammar>> compile(const NodePtr& root);

}  // namespace sluice::structured
