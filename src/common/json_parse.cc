#include "common/json_parse.h"

#include <simdjson.h>

#include <string>

namespace sluice {

namespace {

using Json = nlohmann::ordered_json;

// Depth is bounded by the caller's json_shape_error check.
Json to_nlohmann(simdjson::dom::element e) {
  using Type = simdjson::dom::element_type;
  switch (e.type()) {
    case Type::ARRAY: {
      Json a = Json::array();
      const simdjson::dom::array items = e.get_array().value_unsafe();  // a copy: not a dangling &&
      for (simdjson::dom::element v : items) a.push_back(to_nlohmann(v));
      return a;
    }
    case Type::OBJECT: {
      Json o = Json::object();
      // operator[]: a repeated key keeps its first place and its last value, as nlohmann parses.
      const simdjson::dom::object fields = e.get_object().value_unsafe();
      for (auto field : fields) o[std::string(field.key)] = to_nlohmann(field.value);
      return o;
    }
    case Type::INT64: {
      const int64_t v = e.get_int64().value_unsafe();
      return v >= 0 ? Json(static_cast<uint64_t>(v)) : Json(v);
    }
    case Type::UINT64:
      return Json(e.get_uint64().value_unsafe());
    case Type::DOUBLE:
      return Json(e.get_double().value_unsafe());
    case Type::STRING:
      return Json(std::string(e.get_string().value_unsafe()));
    case Type::BOOL:
      return Json(e.get_bool().value_unsafe());
    case Type::NULL_VALUE:
      return Json(nullptr);
  }
  return Json(nullptr);
}

}  // namespace

std::optional<nlohmann::ordered_json> parse_json_simd(std::string_view text) {
  thread_local simdjson::dom::parser parser;  // reuses its buffers across requests
  simdjson::dom::element root;
  if (parser.parse(text.data(), text.size(), /*realloc_if_needed=*/true).get(root)) return {};
  return to_nlohmann(root);
}

}  // namespace sluice
