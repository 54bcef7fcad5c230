#pragma once
// GGUF tokenizer.ggml.pre -> the pre-tokenizer split regexes (applied in order, each one to the
// pieces of the previous, as llama.cpp does) and the flags that come with each pre-type.
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

struct GgufPreType {
  std::vector<std::string> regexes;
  bool ignore_merges = false;
  bool add_bos = false;  // default for tokenizer.ggml.add_bos_token
  // SentencePiece-style BPE (Gemma 4): merges run on raw UTF-8 with " " escaped to "▁", unknown
  // bytes fall back to <0xNN> tokens, a word of only newlines that is a token stays whole, BOS on.
  bool spm_style = false;
};

// nullptr for names we do not know (callers fall back to "gpt-2" with a warning).
const GgufPreType* find_gguf_pre_type(std::string_view name);

}  // namespace sluice
