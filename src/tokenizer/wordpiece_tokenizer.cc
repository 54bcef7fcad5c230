#include "tokenizer/wordpiece_tokenizer.h"

#include "tokenizer/normalizer.h"
#include "tokenizer/utf8.h"

namespace sluice {
namespace {

// HF's decoders::wordpiece::cleanup (BERT's clean_up_tokenization), applied to one token.
std::string cleanup(std::string s) {
  static const std::pair<const char*, const char*> kRules[] = {
      {" .", "."},   {" ?", "?"},     {" !", "!"},    {" ,", ","},
      {" ' ", "'"},  {" n't", "n't"}, {" 'm", "'m"},  {" do not", " don't"},
      {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : kRules) s = replace_all(s, from, to);
  return s;
}

}  // namespace

std::vector<int32_t> WordPieceTokenizer::encode(std::string_view text,
                                                const EncodeOptions& opts) const {
  std::vector<int32_t> out;
  const std::string input = utf8::sanitize(text);
  std::vector<Segment> segments, sub;
  if (added.empty()) {
    segments.push_back({input, -1});
  } else {
    added.split(input, opts.parse_special, /*normalized=*/false, &segments);
  }
  for (const Segment& seg : segments) {
    if (seg.is_token()) {
      out.push_back(seg.id);
      continue;
    }
    const std::string norm = normalizer ? bert_normalize(seg.text, *normalizer) : seg.text;
    if (!has_normalized_added) {
      encode_text(norm, &out);
      continue;
    }
    sub.clear();
    added.split(norm, opts.parse_special, /*normalized=*/true, &sub);
    for (const Segment& s : sub) {
      if (s.is_token()) {
        out.push_back(s.id);
      } else {
        encode_text(s.text, &out);
      }
    }
  }
  if (!opts.add_special) return out;
  return post_processor.apply(out, nullptr).ids;
}

void WordPieceTokenizer::encode_text(std::string_view text, std::vector<int32_t>* out) const {
  std::vector<std::string> words;
  bert_pre_tokenize(text, &words);
  for (const std::string& w : words) model.encode_word(vocab, w, out);
}

Result<Encoding> WordPieceTokenizer::add_special_tokens(const std::vector<int32_t>& a,
                                                        const std::vector<int32_t>* b) const {
  if (b && !post_processor.has_pair()) {
    return Status::error("tokenizer", "this tokenizer has no template for sequence pairs");
  }
  return post_processor.apply(a, b);
}

bool WordPieceTokenizer::is_special(int32_t id) const {
  if (id < 0 || id >= vocab.size()) return false;
  return vocab.kinds[static_cast<size_t>(id)] == TokenKind::kControl;
}

std::string WordPieceTokenizer::token_text(int32_t id) const {
  if (id < 0 || id >= vocab.size()) return std::string();
  return vocab.id_to_text[static_cast<size_t>(id)];
}

std::string WordPieceTokenizer::decode_token(const std::string& text, size_t index) const {
  if (!decoder.present) return index == 0 ? text : " " + text;
  std::string s = text;
  if (index != 0) {
    if (s.compare(0, decoder.prefix.size(), decoder.prefix) == 0) {
      s.erase(0, decoder.prefix.size());
    } else {
      s = " " + s;
    }
  }
  return decoder.cleanup ? cleanup(std::move(s)) : s;
}

std::string WordPieceTokenizer::token_bytes(int32_t id, bool skip_special) const {
  if (id < 0 || id >= vocab.size()) return std::string();
  if (skip_special && is_special(id)) return std::string();
  return decode_token(vocab.id_to_text[static_cast<size_t>(id)], /*index=*/1);
}

std::string WordPieceTokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
  std::string out;
  size_t index = 0;
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab.size() || (skip_special && is_special(id))) continue;
    const std::string& text = vocab.id_to_text[static_cast<size_t>(id)];
    if (text.empty()) continue;  // an id the vocabulary does not have
    out += decode_token(text, index++);
  }
  return out;
}

}  // namespace sluice
