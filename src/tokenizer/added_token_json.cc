#include "tokenizer/added_token_json.h"

namespace sluice {

Result<AddedToken> added_token_from_json(const nlohmann::json& a) {
  if (!a.contains("id") || !a.contains("content") || !a["content"].is_string())
    return Status::error("tokenizer.json", "added token without id/content");
  AddedToken t;
  t.id = a["id"].get<int32_t>();
  t.content = a["content"];
  t.special = a.value("special", false);
  t.lstrip = a.value("lstrip", false);
  t.rstrip = a.value("rstrip", false);
  t.single_word = a.value("single_word", false);
  t.normalized = a.value("normalized", !t.special);
  if (t.id < 0) return Status::error("tokenizer.json", "added token with a negative id");
  return t;
}

}  // namespace sluice
