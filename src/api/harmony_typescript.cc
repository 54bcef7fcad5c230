#include "api/harmony_typescript.h"

#include <algorithm>

namespace sluice::api {

namespace {

const std::string* string_field(const Json& schema, const char* key) {
  if (!schema.is_object()) return nullptr;
  auto it = schema.find(key);
  return it != schema.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

const Json* array_field(const Json& schema, const char* key) {
  if (!schema.is_object()) return nullptr;
  auto it = schema.find(key);
  return it != schema.end() && it->is_array() ? &*it : nullptr;
}

bool has(const Json& schema, const char* key) {
  return schema.is_object() && schema.contains(key);
}

bool nullable(const Json& schema) {
  return has(schema, "nullable") && schema["nullable"].is_boolean() &&
         schema["nullable"].get<bool>();
}

// "default: ..." : a string in quotes, unless the schema is an enum (then bare); else JSON.
std::string default_text(const Json& schema) {
  const Json& d = schema["default"];
  const Json* e = array_field(schema, "enum");
  if (d.is_string()) {
    const std::string& s = d.get_ref<const std::string&>();
    return (e && !e->empty()) ? "default: " + s : "default: \"" + s + "\"";
  }
  return "default: " + d.dump();
}

std::string with_null(std::string type, const Json& schema) {
  if (nullable(schema) && type.find("null") == std::string::npos) type += " | null";
  return type;
}

// The variants of a oneOf, one " | T // comments" line each (the caller writes the line starts).
std::string variant_line(const Json& variant, const std::string& indent, bool skip_description,
                         const std::string* property_description) {
  std::string out = with_null(harmony_typescript(variant, indent + "   "), variant);
  std::vector<std::string> comments;
  if (const std::string* d = string_field(variant, "description"))
    if (!skip_description && (!property_description || *d != *property_description))
      comments.push_back(*d);
  if (has(variant, "default")) comments.push_back(default_text(variant));
  if (!comments.empty()) {
    out += " //";
    for (const std::string& c : comments) out += " " + c;
  }
  return out;
}

std::string top_one_of(const Json& variants, const std::string& indent) {
  std::string out;
  for (const Json& v : variants)
    out += "\n" + indent + " | " + variant_line(v, indent, false, nullptr);
  return out;
}

// A property whose schema is a oneOf: its comments, "name?:", then one line per variant.
std::string one_of_property(const std::string& key, const Json& val, bool required,
                            const Json& variants, const std::string& indent) {
  std::string out;
  const std::string* desc = string_field(val, "description");
  const std::string* first_desc =
      variants.empty() ? nullptr : string_field(variants[0], "description");
  const bool desc_above = desc && !(first_desc && *first_desc == *desc);
  if (desc_above) out += indent + "// " + *desc + "\n";
  if (has(val, "default")) out += indent + "// " + default_text(val) + "\n";
  out += indent + key + (required ? "" : "?") + ":\n";
  for (size_t i = 0; i < variants.size(); ++i)
    out += indent + " | " + variant_line(variants[i], indent, i == 0 && desc_above, desc) + "\n";
  return out + indent + ",\n";
}

std::string object_type(const Json& schema, const std::string& indent) {
  std::string out;
  if (const std::string* d = string_field(schema, "description")) out += indent + "// " + *d + "\n";
  out += "{\n";
  const Json* props = has(schema, "properties") && schema["properties"].is_object()
                          ? &schema["properties"]
                          : nullptr;
  const Json* req = array_field(schema, "required");
  for (auto it = props ? props->begin() : Json::const_iterator(); props && it != props->end();
       ++it) {
    const std::string& key = it.key();
    const Json& val = it.value();
    const bool required = req && std::find(req->begin(), req->end(), Json(key)) != req->end();
    if (const std::string* t = string_field(val, "title"))
      out += indent + "// " + *t + "\n" + indent + "//\n";
    if (!has(val, "oneOf"))
      if (const std::string* d = string_field(val, "description"))
        out += indent + "// " + *d + "\n";
    if (const Json* ex = array_field(val, "examples"); ex && !ex->empty()) {
      out += indent + "// Examples:\n";
      for (const Json& e : *ex)
        if (e.is_string()) out += indent + "// - \"" + e.get<std::string>() + "\"\n";
    }
    if (const Json* variants = array_field(val, "oneOf")) {
      out += one_of_property(key, val, required, *variants, indent);
      continue;
    }
    out += indent + key + (required ? "" : "?") + ": ";
    out += with_null(harmony_typescript(val, indent + "    "), val) + ",";
    if (!has(val, "oneOf") && has(val, "default")) out += " // " + default_text(val);
    out += "\n";
  }
  return out + indent + "}";
}

std::string string_type(const Json& schema) {
  std::string out;
  if (const Json* e = array_field(schema, "enum"))
    for (const Json& v : *e)
      if (v.is_string()) out += (out.empty() ? "\"" : " | \"") + v.get<std::string>() + "\"";
  return out.empty() ? "string" : out;
}

}  // namespace

std::string harmony_typescript(const Json& schema, const std::string& indent) {
  if (const Json* variants = array_field(schema, "oneOf")) return top_one_of(*variants, indent);
  if (const Json* types = array_field(schema, "type")) {
    std::string out;
    for (const Json& t : *types) {
      if (!t.is_string()) continue;
      const std::string s = t == "integer" ? "number" : t.get<std::string>();
      out += (out.empty() ? "" : " | ") + s;
    }
    if (!out.empty()) return out;
  }
  if (const std::string* type = string_field(schema, "type")) {
    if (*type == "object") return object_type(schema, indent);
    if (*type == "string") return string_type(schema);
    if (*type == "number" || *type == "integer") return "number";
    if (*type == "boolean") return "boolean";
    if (*type == "array")
      return has(schema, "items") ? harmony_typescript(schema["items"], indent) + "[]"
                                  : "Array<any>";
  }
  return "any";
}

}  // namespace sluice::api
