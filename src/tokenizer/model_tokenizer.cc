#include "tokenizer/model_tokenizer.h"

#include <algorithm>

#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace sluice {

std::vector<int32_t> ModelTokenizer::encode(std::string_view text,
                                            const EncodeOptions& opts) const {
  std::vector<int32_t> out(prefix_ids.size() * opts.add_special, 0);
  if (opts.add_special) std::copy(prefix_ids.begin(), prefix_ids.end(), out.begin());

  const std::string input = utf8::sanitize(text);  // regexes and normalizers need valid UTF-8
  std::vector<Segment> segments;
  if (added.empty()) {
    segments.push_back({input, -1});
  } else {
    added.split(input, opts.parse_special, /*normalized=*/false, &segments);
  }
  bool first = true;
  std::vector<Segment> sub;
  for (const Segment& seg : segments) {
    if (seg.is_token()) {
      out.push_back(seg.id);
      first = false;
      continue;
    }
    std::string norm = normalizer.empty() ? seg.text : normalizer.apply(seg.text);
    if (!has_normalized_added) {
      encode_text(norm, first, &out);
    } else {
      sub.clear();
      added.split(norm, opts.parse_special, /*normalized=*/true, &sub);
      for (const Segment& s : sub) {
        if (s.is_token()) {
          out.push_back(s.id);
        } else {
          encode_text(s.text, first, &out);
        }
        first = false;
      }
    }
    first = false;
  }
  if (opts.add_special) out.insert(out.end(), suffix_ids.begin(), suffix_ids.end());
  return out;
}

void ModelTokenizer::encode_text(std::string_view text, bool first_segment,
                                 std::vector<int32_t>* out) const {
  if (text.empty()) return;
  std::vector<std::string> pieces;
  pre_tokenizer.split(text, first_segment, &pieces);
  for (const std::string& piece : pieces) {
    if (spm) {
      spm->encode(piece, out);
    } else if (pre_tokenizer.byte_level()) {
      bpe->encode_word(byte_level::encode(piece), out);
    } else {
      bpe->encode_word(piece, out);
    }
  }
}

Result<Encoding> ModelTokenizer::add_special_tokens(const std::vector<int32_t>& a,
                                                    const std::vector<int32_t>* b) const {
  if (b) return Status::error("tokenizer", "this tokenizer has no template for sequence pairs");
  Encoding e;
  e.ids = prefix_ids;
  e.ids.insert(e.ids.end(), a.begin(), a.end());
  e.ids.insert(e.ids.end(), suffix_ids.begin(), suffix_ids.end());
  e.type_ids.assign(e.ids.size(), 0);
  return e;
}

bool ModelTokenizer::is_special(int32_t id) const {
  if (id < 0 || id >= vocab.size()) return false;
  const TokenKind k = vocab.kinds[static_cast<size_t>(id)];
  return k == TokenKind::kControl || k == TokenKind::kUnknown;
}

std::string ModelTokenizer::token_text(int32_t id) const {
  if (id < 0 || id >= vocab.size()) return std::string();
  return vocab.id_to_text[static_cast<size_t>(id)];
}

std::string ModelTokenizer::token_bytes(int32_t id, bool skip_special) const {
  if (id < 0 || id >= vocab.size()) return std::string();
  const std::string& text = vocab.id_to_text[static_cast<size_t>(id)];
  switch (vocab.kinds[static_cast<size_t>(id)]) {
    case TokenKind::kControl:
    case TokenKind::kUnknown:
      return skip_special ? std::string() : text;
    case TokenKind::kUserDefined:
      return text;
    case TokenKind::kByte:
      if (decoder.byte_tokens) {
        if (auto b = parse_byte_token(text)) return std::string(1, static_cast<char>(*b));
      }
      return text;
    case TokenKind::kNormal:
    case TokenKind::kUnused:
      break;
  }
  if (decoder.byte_level) return byte_level::decode(text);
  if (!decoder.metaspace.empty()) return replace_all(text, decoder.metaspace, " ");
  return text;
}

std::string ModelTokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
  std::string out;
  bool first = true;
  for (int32_t id : ids) {
    if (skip_special && is_special(id)) continue;
    std::string piece = token_bytes(id, skip_special);
    if (first) {
      size_t n = 0;
      while (n < piece.size() && n < static_cast<size_t>(decoder.strip_leading_spaces) &&
             piece[n] == ' ')
        ++n;
      piece.erase(0, n);
      first = false;
    }
    out += piece;
  }
  return utf8::sanitize(out);
}

namespace {

const char* const kEndTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end_of_text|>", "<|endoftext|>",    "<end_of_turn>",
    "</s>",       "<|eom_id|>", "<|end|>",         "<|return|>",       "<|call|>",
    "<|EOT|>",    "<eos>",      "<turn|>",         "<|tool_response>", "<｜end▁of▁sentence｜>"};

}  // namespace

bool is_end_of_generation_text(std::string_view text) {
  for (const char* t : kEndTexts)
    if (text == t) return true;
  return false;
}

void ModelTokenizer::collect_eog(const std::vector<int32_t>& extra_ids) {
  eog.clear();
  auto add = [&](int32_t id) {
    if (id >= 0 && id < vocab.size() && std::find(eog.begin(), eog.end(), id) == eog.end()) {
      eog.push_back(id);
    }
  };
  if (eos) add(*eos);
  for (int32_t id : extra_ids) add(id);
  for (const char* t : kEndTexts) {
    auto id = vocab.find(t);
    if (id && is_special(*id)) add(*id);
  }
  // Harmony (gpt-oss): <|end|> closes a message, <|return|> and <|call|> end the turn.
  auto end = vocab.find("<|end|>"), ret = vocab.find("<|return|>"), call = vocab.find("<|call|>");
  auto has = [&](std::optional<int32_t> id) {
    return id && std::find(eog.begin(), eog.end(), *id) != eog.end();
  };
  if (has(end) && has(ret) && has(call) && eos != end) {
    eog.erase(std::find(eog.begin(), eog.end(), *end));
  }
}

}  // namespace sluice
