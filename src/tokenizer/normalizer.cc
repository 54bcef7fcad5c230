#include "tokenizer/normalizer.h"

#include <utf8proc.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

namespace sluice {
namespace {

bool is_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<uint8_t>(c) >= 0x80) return false;
  }
  return true;
}

}  // namespace

std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
  if (from.empty()) return std::string(text);
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (true) {
    const size_t hit = text.find(from, pos);
    if (hit == std::string_view::npos) break;
    out.append(text.substr(pos, hit - pos));
    out.append(to);
    pos = hit + from.size();
  }
  out.append(text.substr(pos));
  return out;
}

std::string unicode_normalize(std::string_view text, Normalizer::Step::Kind form) {
  if (is_ascii(text)) return std::string(text);  // ASCII is invariant under every form
  int opts = UTF8PROC_STABLE;
  switch (form) {
    case Normalizer::Step::kNfc:
      opts |= UTF8PROC_COMPOSE;
      break;
    case Normalizer::Step::kNfkc:
      opts |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
      break;
    case Normalizer::Step::kNfd:
      opts |= UTF8PROC_DECOMPOSE;
      break;
    case Normalizer::Step::kNfkd:
      opts |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
      break;
    default:
      return std::string(text);
  }
  utf8proc_uint8_t* dst = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                          static_cast<utf8proc_ssize_t>(text.size()), &dst,
                                          static_cast<utf8proc_option_t>(opts));
  if (n < 0) return std::string(text);  // invalid UTF-8: leave as is
  std::string out(reinterpret_cast<const char*>(dst), static_cast<size_t>(n));
  std::free(dst);
  return out;
}

Result<Normalizer> Normalizer::from_json(const nlohmann::json& j) {
  Normalizer n;
  if (j.is_null()) return n;
  Status s = n.parse_into(j);
  if (!s) return s;
  return n;
}

Status Normalizer::parse_into(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) {
    return Status::error("tokenizer.json", "normalizer without a \"type\"");
  }
  const std::string type = j["type"];
  if (type == "Sequence") {
    if (!j.contains("normalizers") || !j["normalizers"].is_array()) {
      return Status::error("tokenizer.json", "Sequence normalizer without \"normalizers\"");
    }
    for (const auto& sub : j["normalizers"]) SLUICE_RETURN_IF_ERROR(parse_into(sub));
    return Status::ok();
  }
  Step step{};
  if (type == "NFC") {
    step.kind = Step::kNfc;
  } else if (type == "NFKC") {
    step.kind = Step::kNfkc;
  } else if (type == "NFD") {
    step.kind = Step::kNfd;
  } else if (type == "NFKD") {
    step.kind = Step::kNfkd;
  } else if (type == "Lowercase") {
    step.kind = Step::kLowercase;
  } else if (type == "Prepend") {
    step.kind = Step::kPrepend;
    step.a = j.value("prepend", std::string());
  } else if (type == "Replace") {
    step.kind = Step::kReplace;
    const auto& pat = j.value("pattern", nlohmann::json::object());
    if (pat.contains("String") && pat["String"].is_string()) {
      step.a = pat["String"];
    } else if (pat.contains("Regex") && pat["Regex"].is_string()) {
      SLUICE_ASSIGN_OR_RETURN(step.regex, Regex::compile(pat["Regex"].get<std::string>()));
    } else {
      return Status::error("tokenizer.json", "Replace normalizer without a String/Regex pattern");
    }
    step.b = j.value("content", std::string());
  } else if (type == "Strip") {
    step.kind = Step::kStrip;
    step.strip_left = j.value("strip_left", true);
    step.strip_right = j.value("strip_right", true);
  } else {
    return Status::error("tokenizer.json", "unsupported normalizer type '" + type + "'");
  }
  steps_.push_back(std::move(step));
  return Status::ok();
}

std::string Normalizer::apply(std::string_view text) const {
  std::string s(text);
  for (const Step& step : steps_) {
    switch (step.kind) {
      case Step::kNfc:
      case Step::kNfkc:
      case Step::kNfd:
      case Step::kNfkd:
        s = unicode_normalize(s, step.kind);
        break;
      case Step::kLowercase: {
        std::string out;
        out.reserve(s.size());
        size_t pos = 0;
        while (pos < s.size()) {
          utf8proc_int32_t cp = 0;
          const auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data()) + pos,
                                          static_cast<utf8proc_ssize_t>(s.size() - pos), &cp);
          if (n <= 0) {
            out.push_back(s[pos++]);
            continue;
          }
          utf8proc_uint8_t buf[4];
          const auto m = utf8proc_encode_char(utf8proc_tolower(cp), buf);
          out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(m));
          pos += static_cast<size_t>(n);
        }
        s = std::move(out);
        break;
      }
      case Step::kPrepend:
        if (!s.empty()) s = step.a + s;  // HF skips empty strings
        break;
      case Step::kReplace:
        if (step.regex) {
          std::string out;
          size_t last = 0;
          step.regex->for_each_match(s, [&](size_t b, size_t e) {
            out.append(s, last, b - last);
            out.append(step.b);
            last = e;
          });
          out.append(s, last, std::string::npos);
          s = std::move(out);
        } else {
          s = replace_all(s, step.a, step.b);
        }
        break;
      case Step::kStrip: {
        size_t b = 0, e = s.size();
        auto is_ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
        if (step.strip_left)
          while (b < e && is_ws(s[b])) ++b;
        if (step.strip_right)
          while (e > b && is_ws(s[e - 1])) --e;
        s = s.substr(b, e - b);
        break;
      }
    }
  }
  return s;
}

}  // namespace sluice
