#include "tokenizer/bert_basic_tokenizer.h"

#include <utf8proc.h>

#include "tokenizer/normalizer.h"
#include "tokenizer/utf8.h"

namespace sluice {
namespace {

utf8proc_category_t category(uint32_t cp) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp));
}

// HF's is_control: categories Cc, Cf, Co (unicode_categories' is_other), except \t \n \r.
bool is_control(uint32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  const auto c = category(cp);
  return c == UTF8PROC_CATEGORY_CC || c == UTF8PROC_CATEGORY_CF || c == UTF8PROC_CATEGORY_CO;
}

void append_lowercase(uint32_t cp, std::string* out) {
  if (cp == 0x130) {  // İ: the one full (two-character) lowercase mapping without context
    utf8::append(out, 'i');
    utf8::append(out, 0x307);
    return;
  }
  utf8::append(out, static_cast<uint32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
}

}  // namespace

bool bert_is_whitespace(uint32_t cp) {
  switch (cp) {  // the Unicode White_Space property (Rust's char::is_whitespace)
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x20:
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

bool bert_is_punctuation(uint32_t cp) {
  if (cp < 0x80) {
    return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
           (cp >= 123 && cp <= 126);
  }
  switch (category(cp)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return true;
    default:
      return false;
  }
}

bool bert_is_chinese_char(uint32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

std::string bert_normalize(std::string_view text, const BertNormalizerOptions& opts) {
  // Pass 1: clean_text and handle_chinese_chars (both char by char).
  std::string s;
  s.reserve(text.size() + 8);
  for (size_t pos = 0; pos < text.size();) {
    uint32_t cp = utf8::decode(text, &pos);
    if (opts.clean_text) {
      if (cp == 0 || cp == 0xFFFD || is_control(cp)) continue;
      if (bert_is_whitespace(cp)) cp = ' ';
    }
    if (opts.handle_chinese_chars && bert_is_chinese_char(cp)) {
      s += ' ';
      utf8::append(&s, cp);
      s += ' ';
    } else {
      utf8::append(&s, cp);
    }
  }
  if (opts.strip_accents) {
    const std::string nfd = unicode_normalize(s, Normalizer::Step::kNfd);
    s.clear();
    for (size_t pos = 0; pos < nfd.size();) {
      const uint32_t cp = utf8::decode(nfd, &pos);
      if (category(cp) != UTF8PROC_CATEGORY_MN) utf8::append(&s, cp);
    }
  }
  if (opts.lowercase) {
    std::string lower;
    lower.reserve(s.size());
    for (size_t pos = 0; pos < s.size();) append_lowercase(utf8::decode(s, &pos), &lower);
    s = std::move(lower);
  }
  return s;
}

void bert_pre_tokenize(std::string_view text, std::vector<std::string>* words) {
  std::string word;
  auto flush = [&] {
    if (!word.empty()) words->push_back(std::move(word));
    word.clear();
  };
  for (size_t pos = 0; pos < text.size();) {
    const size_t start = pos;
    const uint32_t cp = utf8::decode(text, &pos);
    if (bert_is_whitespace(cp)) {
      flush();
    } else if (bert_is_punctuation(cp)) {
      flush();
      words->emplace_back(text.substr(start, pos - start));
    } else {
      word.append(text.substr(start, pos - start));
    }
  }
  flush();
}

}  // namespace sluice
