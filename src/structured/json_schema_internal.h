#pragma once
// The JSON Schema compiler (json_schema.cc: dispatch, scalars; json_schema_containers.cc:
// objects and arrays).
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "structured/grammar_node.h"

namespace sluice::structured {

// "WHAT at PATH" (the root is "/"): the schema compiler's error.
Status schema_error(const std::string& what, const std::string& path);

class SchemaCompiler {
 public:
  explicit SchemaCompiler(const nlohmann::ordered_json& root);
  Result<NodePtr> compile_root();

 private:
  using json = nlohmann::ordered_json;
  Result<NodePtr> compile(const json& s, const std::string& path);
  Result<NodePtr> compile_ref(const json& ref, const std::string& path);
  Result<NodePtr> compile_enum(const json& s, const std::vector<std::string>& types,
                               const std::string& path);
  Result<NodePtr> compile_string(const json& s, const std::string& path);
  Result<NodePtr> compile_number(const json& s, bool integer, const std::string& path);
  Result<NodePtr> compile_array(const json& s, const std::string& path);
  Result<NodePtr> compile_object(const json& s, const std::string& path);
  // Wraps a node as a rule of this schema (compiled once however often it is used).
  NodePtr as_rule(NodePtr body, const std::string& name);

  const json& root_;
  std::shared_ptr<RuleSet> rules_;
  std::map<std::string, int32_t> ref_rules_;
};

}  // namespace sluice::structured
