#include "api/json_fields.h"

#include <algorithm>
#include <limits>

#include "common/json_shape.h"

namespace sluice::api {

const Json* json_field(const Json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

ApiError field_error(const std::string& name, const std::string& what, Protocol protocol) {
  return invalid(name + (protocol == Protocol::kAnthropic ? ": " : " ") + what, name);
}

bool json_bool(const Json& v, const std::string& name, Protocol protocol) {
  if (!v.is_boolean()) throw field_error(name, "must be a boolean", protocol);
  return v.get<bool>();
}

const std::string& json_string(const Json& v, const std::string& name, Protocol protocol) {
  if (!v.is_string()) throw field_error(name, "must be a string", protocol);
  return v.get_ref<const std::string&>();
}

double json_number(const Json& v, const std::string& name, Protocol protocol) {
  if (!v.is_number()) throw field_error(name, "must be a number", protocol);
  return v.get<double>();
}

float json_float(const Json& v, const std::string& name, Protocol protocol) {
  return static_cast<float>(json_number(v, name, protocol));
}

int64_t json_int(const Json& v, const std::string& name, Protocol protocol) {
  if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
    throw field_error(name, "is out of range", protocol);
  if (!v.is_number_integer()) throw field_error(name, "must be an integer", protocol);
  return v.get<int64_t>();
}

int32_t json_int32(const Json& v, const std::string& name, Protocol protocol) {
  const int64_t x = json_int(v, name, protocol);
  if (x < std::numeric_limits<int32_t>::min() || x > std::numeric_limits<int32_t>::max())
    throw field_error(name, "is out of range, got " + std::to_string(x), protocol);
  return static_cast<int32_t>(x);
}

int32_t json_int32_clamped(const Json& v, const std::string& name, Protocol protocol) {
  if (!v.is_number_integer()) throw field_error(name, "must be an integer", protocol);
  constexpr int64_t kMin = std::numeric_limits<int32_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  if (v.is_number_unsigned())
    return static_cast<int32_t>(std::min<uint64_t>(v.get<uint64_t>(), kMax));
  return static_cast<int32_t>(std::clamp(v.get<int64_t>(), kMin, kMax));
}

std::string dump(const Json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Json parse_json_or_discarded(std::string_view text) {
  if (json_shape_error(text)) return Json(Json::value_t::discarded);
  return Json::parse(text, nullptr, /*allow_exceptions=*/false);
}

}  // namespace sluice::api
