#include "tokenizer/special_tokens_template.h"

#include <nlohmann/json.hpp>

#include "common/assert.h"

namespace sluice {

using nlohmann::json;

Result<std::vector<SpecialTokensTemplate::Piece>> SpecialTokensTemplate::parse_pieces(
    const json& items, const json& specials, const Vocab& vocab) {
  std::vector<Piece> out;
  if (!items.is_array()) return Status::error("tokenizer.json", "template is not an array");
  for (const json& item : items) {
    Piece p;
    if (item.contains("Sequence")) {
      const json& s = item["Sequence"];
      const std::string id = s.value("id", std::string("A"));
      if (id != "A" && id != "B") {
        return Status::error("tokenizer.json", "template sequence '" + id + "' (A or B expected)");
      }
      p.sequence = id == "A" ? 0 : 1;
      p.type_id = s.value("type_id", 0);
    } else if (item.contains("SpecialToken")) {
      const json& s = item["SpecialToken"];
      const std::string name = s.value("id", std::string());
      p.type_id = s.value("type_id", 0);
      if (specials.is_object() && specials.contains(name)) {
        for (const json& id : specials[name].value("ids", json::array()))
          p.ids.push_back(id.get<int32_t>());
      } else if (auto id = vocab.find(name)) {
        p.ids.push_back(*id);
      } else {
        return Status::error("tokenizer.json", "post_processor names unknown token '" + name + "'");
      }
    } else {
      return Status::error("tokenizer.json", "template item is neither Sequence nor SpecialToken");
    }
    out.push_back(std::move(p));
  }
  return out;
}

Result<SpecialTokensTemplate> SpecialTokensTemplate::from_json(const json& j, const Vocab& vocab) {
  SpecialTokensTemplate t;
  if (j.is_null()) {  // no special tokens; B's tokens still get type id 1 (as HF)
    t.single_ = {{0, {}, 0}};
    t.pair_ = {{0, {}, 0}, {1, {}, 1}};
    t.has_pair_ = true;
    return t;
  }
  const std::string type = j.is_object() ? j.value("type", std::string()) : std::string();
  if (type == "TemplateProcessing") {
    const json specials = j.value("special_tokens", json::object());
    SLUICE_ASSIGN_OR_RETURN(t.single_,
                            parse_pieces(j.value("single", json::array()), specials, vocab));
    if (j.contains("pair")) {
      SLUICE_ASSIGN_OR_RETURN(t.pair_, parse_pieces(j["pair"], specials, vocab));
      t.has_pair_ = true;
    }
    return t;
  }
  if (type == "BertProcessing") {
    // "cls": ["[CLS]", 101], "sep": ["[SEP]", 102]
    auto id_of = [&](const char* key) -> Result<int32_t> {
      const json v = j.value(key, json());
      if (!v.is_array() || v.size() != 2 || !v[1].is_number_integer()) {
        return Status::error("tokenizer.json",
                             std::string("BertProcessing without \"") + key + "\": [token, id]");
      }
      return v[1].get<int32_t>();
    };
    SLUICE_ASSIGN_OR_RETURN(int32_t cls, id_of("cls"));
    SLUICE_ASSIGN_OR_RETURN(int32_t sep, id_of("sep"));
    return bert(cls, sep);
  }
  return Status::error("tokenizer.json", "unsupported post_processor '" + type +
                                             "' for WordPiece (TemplateProcessing or "
                                             "BertProcessing expected)");
}

SpecialTokensTemplate SpecialTokensTemplate::bert(int32_t cls_id, int32_t sep_id) {
  SpecialTokensTemplate t;
  t.single_ = {{-1, {cls_id}, 0}, {0, {}, 0}, {-1, {sep_id}, 0}};
  t.pair_ = {{-1, {cls_id}, 0}, {0, {}, 0}, {-1, {sep_id}, 0}, {1, {}, 1}, {-1, {sep_id}, 1}};
  t.has_pair_ = true;
  return t;
}

size_t SpecialTokensTemplate::num_special_tokens(bool pair) const {
  size_t n = 0;
  for (const Piece& p : pair ? pair_ : single_) n += p.ids.size();
  return n;
}

Encoding SpecialTokensTemplate::apply(const std::vector<int32_t>& a,
                                      const std::vector<int32_t>* b) const {
  SLUICE_ASSERT(!b || has_pair_, "pair encoding without a pair template");
  Encoding e;
  for (const Piece& p : b ? pair_ : single_) {
    const std::vector<int32_t>& ids = p.sequence < 0 ? p.ids : (p.sequence == 0 ? a : *b);
    e.ids.insert(e.ids.end(), ids.begin(), ids.end());
    e.type_ids.insert(e.type_ids.end(), ids.size(), p.type_id);
  }
  return e;
}

}  // namespace sluice
