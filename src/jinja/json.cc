#include "jinja/json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/json_escape.h"
#include "jinja/error.h"
#include "jinja/unicode.h"

namespace sluice::jinja {

namespace {

template <typename J>
Value from_json_impl(const J& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return Value::none();
    case nlohmann::json::value_t::boolean:
      return Value(j.template get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Value(j.template get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      uint64_t u = j.template get<uint64_t>();
      if (u <= static_cast<uint64_t>(INT64_MAX)) return Value(static_cast<int64_t>(u));
      return Value(static_cast<double>(u));
    }
    case nlohmann::json::value_t::number_float:
      return Value(j.template get<double>());
    case nlohmann::json::value_t::string:
      return Value(j.template get<std::string>());
    case nlohmann::json::value_t::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(from_json_impl(e));
      return Value::list(std::move(items));
    }
    case nlohmann::json::value_t::object: {
      auto d = std::make_shared<DictData>();
      d->entries.reserve(j.size());
      for (auto it = j.begin(); it != j.end(); ++it)
        d->entries.emplace_back(Value(it.key()), from_json_impl(it.value()));
      return Value(std::move(d));
    }
    default:
      return Value::none();
  }
}

void dump_string(const std::string& s, bool ensure_ascii, std::string& out) {
  out.push_back('"');
  if (!ensure_ascii || is_ascii(s)) {
    append_json_escaped(s, out);
  } else {
    for (char32_t c : utf8_decode(s)) {
      if (c < 0x80) {
        append_json_escaped_byte(static_cast<unsigned char>(c), out);
        continue;
      }
      char buf[16];
      if (c >= 0x10000) {
        char32_t v = c - 0x10000;
        std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x", 0xD800 + static_cast<unsigned>(v >> 10),
                      0xDC00 + static_cast<unsigned>(v & 0x3FF));
      } else {
        std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
      }
      out += buf;
    }
  }
  out.push_back('"');
}

std::string float_json(double f) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "Infinity" : "-Infinity";
  return float_repr(f);
}

struct Dumper {
  const JsonDumpOptions& opts;
  std::string& out;

  void newline(int level) {
    out.push_back('\n');
    for (int i = 0; i < level; ++i) out += *opts.indent;
  }

  std::string key_string(const Value& k) {
    switch (k.type()) {
      case Value::Type::kString:
        return k.str();
      case Value::Type::kInt:
        return std::to_string(k.as_int());
      case Value::Type::kFloat:
        return float_json(k.as_float());
      case Value::Type::kBool:
        return k.as_bool() ? "true" : "false";
      case Value::Type::kNone:
        return "null";
      default:
        throw_error("TypeError",
                    "keys must be str, int, float, bool or None, not " + k.type_name());
    }
  }

  void dump(const Value& v, int level) {
    if (level > 512) throw_error("RecursionError", "maximum recursion depth exceeded in tojson");
    switch (v.type()) {
      case Value::Type::kNone:
        out += "null";
        return;
      case Value::Type::kBool:
        out += v.as_bool() ? "true" : "false";
        return;
      case Value::Type::kInt:
        out += std::to_string(v.as_int());
        return;
      case Value::Type::kFloat:
        out += float_json(v.as_float());
        return;
      case Value::Type::kString:
        dump_string(v.str(), opts.ensure_ascii, out);
        return;
      case Value::Type::kList: {
        const auto& items = v.items();
        if (items.empty()) {
          out += "[]";
          return;
        }
        out.push_back('[');
        for (size_t i = 0; i < items.size(); ++i) {
          if (i) out += opts.item_separator;
          if (opts.indent) newline(level + 1);
          dump(items[i], level + 1);
        }
        if (opts.indent) newline(level);
        out.push_back(']');
        return;
      }
      case Value::Type::kDict: {
        const auto& entries = v.dict_ptr()->entries;
        if (entries.empty()) {
          out += "{}";
          return;
        }
        std::vector<const std::pair<Value, Value>*> order;
        order.reserve(entries.size());
        for (const auto& e : entries) order.push_back(&e);
        if (opts.sort_keys) {
          for (const auto* e : order)
            if (!e->first.is_string())
              throw_error("TypeError", "'<' not supported between dict keys of mixed types");
          std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
            return a->first.str() < b->first.str();
          });
        }
        out.push_back('{');
        bool first = true;
        for (const auto* e : order) {
          if (!first) out += opts.item_separator;
          first = false;
          if (opts.indent) newline(level + 1);
          dump_string(key_string(e->first), opts.ensure_ascii, out);
          out += opts.key_separator;
          dump(e->second, level + 1);
        }
        if (opts.indent) newline(level);
        out.push_back('}');
        return;
      }
      default:
        throw_error("TypeError", "Object of type " + v.type_name() + " is not JSON serializable");
    }
  }
};

}  // namespace

Value from_json(const nlohmann::ordered_json& j) {
  return from_json_impl(j);
}
Value from_json(const nlohmann::json& j) {
  return from_json_impl(j);
}

std::string json_dumps(const Value& v, const JsonDumpOptions& opts) {
  std::string out;
  Dumper d{opts, out};
  d.dump(v, 0);
  return out;
}

}  // namespace sluice::jinja
