// GGUF byte-level BPE vocabulary -> tokenizer.json + tokenizer_config.json (the inverse of
// gguf_tokenizer_metadata.cc, following what tokenizer/gguf_vocab_loader.cc reads).
#include "convert/gguf_to_hf_tokenizer.h"

#include <cstdio>
#include <unordered_set>

#include "formats/gguf.h"
#include "tokenizer/gguf_pre_type.h"
#include "tokenizer/vocab.h"

namespace sluice {

namespace {

using nlohmann::json;

json byte_level() {
  return {{"type", "ByteLevel"},
          {"add_prefix_space", false},
          {"trim_offsets", false},
          {"use_regex", false}};
}

// Each regex splits the pieces of the previous one (llama.cpp's order), then bytes -> symbols.
json pre_tokenizer(const GgufPreType& pt) {
  json seq = json::array();
  for (const std::string& re : pt.regexes)
    seq.push_back({{"type", "Split"},
                   {"pattern", {{"Regex", re}}},
                   {"behavior", "Isolated"},
                   {"invert", false}});
  seq.push_back(byte_level());
  return {{"type", "Sequence"}, {"pretokenizers", seq}};
}

json bos_template(const std::string& bos, int64_t id) {
  const json special = {{"SpecialToken", {{"id", bos}, {"type_id", 0}}}};
  return {{"type", "TemplateProcessing"},
          {"single", {special, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
          {"pair",
           {special,
            {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
            special,
            {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
          {"special_tokens", {{bos, {{"id", bos}, {"ids", {id}}, {"tokens", {bos}}}}}}};
}

}  // namespace

Result<HfTokenizerFiles> hf_tokenizer_from_gguf(const GgufFile& g) {
  auto fail = [&](const std::string& what) {
    return Status::error("convert", g.path() + ": " + what);
  };
  const auto tokens = g.get_string_array("tokenizer.ggml.tokens");
  if (!tokens || tokens->empty())
    return fail("no tokenizer.ggml.tokens (the file has no tokenizer)");
  const std::string model = g.get_string("tokenizer.ggml.model").value_or("llama");
  if (model != "gpt2")
    return fail("tokenizer.ggml.model '" + model +
                "' cannot be written as tokenizer.json yet "
                "(only byte-level BPE, 'gpt2')");
  const auto n = static_cast<int64_t>(tokens->size());
  std::vector<int64_t> types(n, 1);
  if (g.find("tokenizer.ggml.token_type")) {
    auto t = g.get_int_array("tokenizer.ggml.token_type");
    if (!t || static_cast<int64_t>(t->size()) != n)
      return fail("tokenizer.ggml.token_type does not match the tokens");
    types = *t;
  }
  const auto merges = g.get_string_array("tokenizer.ggml.merges");
  if (!merges) return fail("byte-level BPE without tokenizer.ggml.merges");
  const std::string pre = g.get_string("tokenizer.ggml.pre").value_or("default");
  const GgufPreType* pt = find_gguf_pre_type(pre);
  if (!pt) {  // as the GGUF loader does
    std::fprintf(stderr, "warning: [convert] unknown tokenizer.ggml.pre '%s', using gpt-2\n",
                 pre.c_str());
    pt = find_gguf_pre_type("gpt-2");
  }
  auto id_of = [&](const char* key) -> int64_t {
    const auto v = g.get_int(std::string("tokenizer.ggml.") + key);
    return v && *v >= 0 && *v < n ? *v : -1;
  };

  json vocab = json::object();
  json added = json::array();
  std::unordered_set<std::string> seen;
  for (int64_t id = 0; id < n; ++id) {
    const std::string& text = (*tokens)[id];
    if (!seen.insert(text).second)
      return fail("token '" + text + "' appears twice; tokenizer.json needs unique tokens");
    vocab[text] = id;
    if (types[id] == gguf_token_type(TokenKind::kControl) ||
        types[id] == gguf_token_type(TokenKind::kUserDefined))
      added.push_back({{"id", id},
                       {"content", text},
                       {"single_word", false},
                       {"lstrip", false},
                       {"rstrip", false},
                       {"normalized", false},
                       {"special", types[id] == gguf_token_type(TokenKind::kControl)}});
  }
  json merge_pairs = json::array();
  for (const std::string& m : *merges) {
    const size_t sp = m.find(' ', 1);
    if (sp == std::string::npos) return fail("bad merge '" + m + "'");
    merge_pairs.push_back({m.substr(0, sp), m.substr(sp + 1)});
  }

  HfTokenizerFiles out;
  out.bos_id = id_of("bos_token_id");
  const int64_t eos = id_of("eos_token_id"), unk = id_of("unknown_token_id"),
                pad = id_of("padding_token_id");
  if (eos >= 0) out.eos_ids.push_back(eos);
  for (const char* key : {"eot_token_id", "eom_token_id"})
    if (const int64_t id = id_of(key); id >= 0 && id != eos) out.eos_ids.push_back(id);
  const bool add_bos =
      g.get_bool("tokenizer.ggml.add_bos_token").value_or(pt->add_bos) && out.bos_id >= 0;
  const bool add_eos = g.get_bool("tokenizer.ggml.add_eos_token").value_or(false);
  if (add_eos)
    return fail("tokenizer.ggml.add_eos_token is not supported when writing tokenizer.json");
  auto text_of = [&](int64_t id) { return id >= 0 ? json((*tokens)[id]) : json(nullptr); };

  out.tokenizer = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer", pre_tokenizer(*pt)},
      {"post_processor", add_bos ? bos_template((*tokens)[out.bos_id], out.bos_id) : byte_level()},
      {"decoder", byte_level()},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", text_of(unk)},
        {"continuing_subword_prefix", ""},
        {"end_of_word_suffix", ""},
        {"fuse_unk", false},
        {"byte_fallback", false},
        {"ignore_merges", pt->ignore_merges},
        {"vocab", vocab},
        {"merges", merge_pairs}}}};

  json& tc = out.tokenizer_config;
  tc["tokenizer_class"] = "PreTrainedTokenizerFast";
  tc["add_bos_token"] = add_bos;
  tc["add_eos_token"] = false;
  tc["bos_token"] = text_of(out.bos_id);
  tc["eos_token"] = text_of(eos);
  tc["unk_token"] = text_of(unk);
  tc["pad_token"] = text_of(pad);
  tc["clean_up_tokenization_spaces"] = false;
  if (auto ctx = g.get_int(g.get_string("general.architecture").value_or("") + ".context_length"))
    tc["model_max_length"] = *ctx;
  if (auto tmpl = g.get_string("tokenizer.chat_template")) tc["chat_template"] = *tmpl;
  return out;
}

}  // namespace sluice
