// GGUF tokenizer metadata (tokenizer.ggml.*) -> ModelTokenizer, following llama.cpp:
// "gpt2" = byte-level BPE with merges and the regexes of tokenizer.ggml.pre;
// "llama" = SentencePiece BPE by scores with "▁" for spaces and <0xNN> byte fallback;
// "gemma4" = BPE with merges over raw UTF-8, "▁" for spaces and <0xNN> byte fallback.
#include <cstdio>

#include "formats/gguf.h"
#include "tokenizer/gguf_pre_type.h"
#include "tokenizer/model_tokenizer.h"
#include "tokenizer/tokenizer.h"

namespace sluice {
namespace {

constexpr const char* kSpace = "\xE2\x96\x81";  // "▁"

std::optional<int32_t> special_id(const GgufFile& g, const char* key, int32_t n_tokens) {
  auto v = g.get_int(std::string("tokenizer.ggml.") + key);
  if (!v || *v < 0 || *v >= n_tokens) return std::nullopt;
  return static_cast<int32_t>(*v);
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> load_tokenizer_gguf(const GgufFile& g) {
  const std::string where = "gguf " + g.path();
  auto tokens = g.get_string_array("tokenizer.ggml.tokens");
  if (!tokens || tokens->empty()) {
    return Status::error(where, "no tokenizer.ggml.tokens (file has no tokenizer)");
  }
  const std::string model = g.get_string("tokenizer.ggml.model").value_or("llama");
  if (model != "gpt2" && model != "llama" && model != "gemma4") {
    return Status::error(where, "unsupported tokenizer.ggml.model '" + model + "'");
  }
  const auto n = static_cast<int32_t>(tokens->size());
  std::vector<int64_t> types(tokens->size(), 1);
  if (g.find("tokenizer.ggml.token_type")) {
    auto t = g.get_int_array("tokenizer.ggml.token_type");
    if (!t || t->size() != tokens->size()) {
      return Status::error(where, "tokenizer.ggml.token_type does not match the token list");
    }
    types = std::move(*t);
  }

  auto tok = std::make_unique<ModelTokenizer>();
  Vocab& vocab = tok->vocab;
  vocab.text_to_id.reserve(tokens->size());
  for (int32_t id = 0; id < n; ++id) {
    const int64_t ty = types[static_cast<size_t>(id)];
    TokenKind kind = ty >= 1 && ty <= 6 ? static_cast<TokenKind>(ty) : TokenKind::kNormal;
    // llama.cpp makes a user-defined token with an end-of-generation text a control token.
    if (kind == TokenKind::kUserDefined &&
        is_end_of_generation_text((*tokens)[static_cast<size_t>(id)]))
      kind = TokenKind::kControl;
    vocab.set(id, (*tokens)[static_cast<size_t>(id)], kind);
    // Control, unknown and user-defined tokens are cut out of the text before the model runs;
    // only user-defined ones without parse_special (llama.cpp's rule).
    if (kind == TokenKind::kControl || kind == TokenKind::kUnknown ||
        kind == TokenKind::kUserDefined) {
      AddedToken a;
      a.id = id;
      a.content = (*tokens)[static_cast<size_t>(id)];
      a.special = kind != TokenKind::kUserDefined;
      tok->added.add(a);
    }
  }

  tok->bos = special_id(g, "bos_token_id", n);
  tok->eos = special_id(g, "eos_token_id", n);
  const auto unk = special_id(g, "unknown_token_id", n);
  bool add_bos = false;
  bool force_bos = false;

  if (model == "llama") {
    auto scores = g.get_float_array("tokenizer.ggml.scores");
    if (!scores || scores->size() != tokens->size()) {
      return Status::error(where, "SentencePiece tokenizer without matching tokenizer.ggml.scores");
    }
    if (!g.find("tokenizer.ggml.bos_token_id"))
      tok->bos = n > 1 ? std::optional<int32_t>(1) : std::nullopt;
    if (!g.find("tokenizer.ggml.eos_token_id"))
      tok->eos = n > 2 ? std::optional<int32_t>(2) : std::nullopt;
    std::vector<float> fscores(scores->begin(), scores->end());
    tok->spm = std::make_unique<SpmModel>(vocab, std::move(fscores),
                                          unk ? unk : std::optional<int32_t>(0));
    const bool add_space_prefix = g.get_bool("tokenizer.ggml.add_space_prefix").value_or(true);
    Normalizer::Step replace{};
    replace.kind = Normalizer::Step::kReplace;
    replace.a = " ";
    replace.b = kSpace;
    tok->normalizer.add(replace);
    if (add_space_prefix) {
      Normalizer::Step prepend{};
      prepend.kind = Normalizer::Step::kPrepend;
      prepend.a = kSpace;
      tok->normalizer.add(prepend);
    }
    tok->decoder.metaspace = kSpace;
    tok->decoder.byte_tokens = true;
    tok->decoder.strip_leading_spaces = add_space_prefix ? 1 : 0;
    add_bos = true;
  } else {
    auto merge_strs = g.get_string_array("tokenizer.ggml.merges");
    if (!merge_strs) return Status::error(where, "BPE tokenizer without tokenizer.ggml.merges");
    std::vector<std::pair<std::string, std::string>> merges;
    merges.reserve(merge_strs->size());
    for (const auto& m : *merge_strs) {
      const size_t sp = m.find(' ', 1);
      if (sp == std::string::npos) return Status::error(where, "bad merge '" + m + "'");
      merges.emplace_back(m.substr(0, sp), m.substr(sp + 1));
    }
    // llama.cpp ignores tokenizer.ggml.pre for "gemma4".
    const std::string pre =
        model == "gemma4" ? "gemma4" : g.get_string("tokenizer.ggml.pre").value_or("default");
    const GgufPreType* pt = find_gguf_pre_type(pre);
    if (!pt) {
      std::fprintf(stderr, "warning: [tokenizer] unknown tokenizer.ggml.pre '%s', using gpt-2\n",
                   pre.c_str());
      pt = find_gguf_pre_type("gpt-2");
    }
    BpeModel::Options opts;
    opts.ignore_merges = pt->ignore_merges;
    // llama.cpp drops a byte without a <0xNN> token rather than emit unk.
    opts.unk_id = pt->spm_style ? std::nullopt : unk;
    opts.byte_fallback = opts.whole_newlines = pt->spm_style;
    auto bpe = BpeModel::create(vocab, merges, opts, /*strict=*/false);
    if (!bpe) return Status::error(where, bpe.error());
    tok->bpe = std::move(bpe.value());
    auto pre_tok = PreTokenizer::from_regex_list(pt->regexes, /*dollar_end_only=*/true,
                                                 /*byte_level=*/!pt->spm_style);
    if (!pre_tok) return Status::error(where, pre_tok.error());
    tok->pre_tokenizer = std::move(pre_tok.value());
    if (pt->spm_style) {
      Normalizer::Step replace{};
      replace.kind = Normalizer::Step::kReplace;
      replace.a = " ";
      replace.b = kSpace;
      tok->normalizer.add(replace);
      tok->decoder.metaspace = kSpace;
      tok->decoder.byte_tokens = true;
    } else {
      tok->decoder.byte_level = true;
    }
    add_bos = pt->add_bos;
    force_bos = pt->spm_style;
  }

  add_bos = g.get_bool("tokenizer.ggml.add_bos_token").value_or(add_bos);
  if (force_bos) add_bos = true;  // llama.cpp's Gemma 4 rule, whatever the file says
  const bool add_eos = g.get_bool("tokenizer.ggml.add_eos_token").value_or(false);
  if (add_bos && tok->bos) tok->prefix_ids = {*tok->bos};
  if (add_eos && tok->eos) tok->suffix_ids = {*tok->eos};

  std::vector<int32_t> extra;
  for (const char* key : {"eot_token_id", "eom_token_id"}) {
    if (auto id = special_id(g, key, n)) extra.push_back(*id);
  }
  tok->collect_eog(extra);
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

}  // namespace sluice
