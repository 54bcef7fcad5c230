#!/usr/bin/env python3
"""Writes a vocabulary-only GGUF of gpt-oss's tokenizer (o200k_harmony), laid out as llama.cpp's
convert_hf_to_gguf.py writes gpt-oss (GptOssModel: _set_vocab_gpt2 over the Hugging Face tokenizer).

    .venv/bin/python tests/reference/gpt_oss_vocab.py OUT.gguf [--tiktoken FILE]

Sources (both offline, pinned in requirements.txt):
  - o200k_base.tiktoken (base64 token bytes, rank per line): the 199998 ordinary tokens, id = rank.
    Default: build/testdata/tiktoken/o200k_base.tiktoken (scripts/setup_testdata unpacks it from
    bpe-openai's bpe_openai/data/o200k_base.tiktoken.gz).
  - openai-harmony's HARMONY_GPT_OSS encoding (pointed at that file by TIKTOKEN_ENCODINGS_BASE):
    the names and ids of the special tokens (<|startoftext|> 199998 ... <|reserved_201087|>).

What goes in, as llama.cpp's conversion of openai/gpt-oss-20b has it:
  - tokenizer.ggml.model "gpt2", tokenizer.ggml.pre "gpt-4o";
  - 201088 tokens (the model's vocab_size; harmony also names <|reserved_201088|>, past the end):
    ordinary tokens as GPT-2 byte-level text (NORMAL), special ones as CONTROL;
  - merges recovered from the ranks the usual tiktoken -> Hugging Face way: for each token of two
    or more bytes, in rank order, run BPE on its bytes with only lower-ranked merges; the two
    parts left are its merge (llama.cpp's QwenModel.bpe does the same for Qwen's tiktoken files);
  - bos <|startoftext|>, eos <|return|>, padding <|endoftext|> (tokenizer_config.json of
    gpt-oss); no add_bos_token key (llama.cpp's default for "gpt-4o" is no BOS). <|return|> and
    <|call|> end generation and <|end|> does not: llama.cpp decides that from the token texts
    (llama-vocab.cpp), so there is no key for it;
  - tokenizer.chat_template: $SLUICE_TESTDATA/templates/openai-gpt-oss-120b.jinja;
  - gpt-oss-20b's hyperparameters (config.json), so llama.cpp can open the file vocab-only.
"""
from __future__ import annotations

import argparse
import base64
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TESTDATA = Path(os.environ.get("SLUICE_TESTDATA", REPO.parent / "shared" / "testdata"))
DEFAULT_TIKTOKEN = REPO / "build" / "testdata" / "tiktoken" / "o200k_base.tiktoken"
VOCAB_SIZE = 201088
TOKEN_NORMAL, TOKEN_CONTROL = 1, 3


def byte_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character map."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def read_ranks(path: Path) -> dict[bytes, int]:
    ranks = {}
    for line in path.read_bytes().splitlines():
        if line:
            tok, rank = line.split()
            ranks[base64.b64decode(tok)] = int(rank)
    if sorted(ranks.values()) != list(range(len(ranks))):
        sys.exit(f"{path}: ranks are not 0..{len(ranks) - 1}")
    return ranks


def split_by_lower_ranks(ranks: dict[bytes, int], token: bytes) -> list[bytes]:
    """BPE on token's bytes, merging only pairs whose rank is below the token's own."""
    limit = ranks[token]
    parts = [token[i:i + 1] for i in range(len(token))]
    while len(parts) > 1:
        best, best_rank = -1, limit
        for i in range(len(parts) - 1):
            r = ranks.get(parts[i] + parts[i + 1])
            if r is not None and r < best_rank:
                best, best_rank = i, r
        if best < 0:
            break
        parts[best:best + 2] = [parts[best] + parts[best + 1]]
    return parts


def harmony_special_tokens(tiktoken_file: Path) -> dict[int, str]:
    os.environ["TIKTOKEN_ENCODINGS_BASE"] = str(tiktoken_file.parent)
    import openai_harmony

    enc = openai_harmony.load_harmony_encoding(openai_harmony.HarmonyEncodingName.HARMONY_GPT_OSS)
    specials = {}
    for text in enc.special_tokens_set:
        ids = enc.encode(text, allowed_special="all")
        assert len(ids) == 1, (text, ids)
        specials[ids[0]] = text
    return specials


def build(out: Path, tiktoken_file: Path) -> None:
    import gguf

    t0 = time.time()
    ranks = read_ranks(tiktoken_file)
    specials = harmony_special_tokens(tiktoken_file)
    n_base = len(ranks)
    want = set(range(n_base, VOCAB_SIZE))
    if not want <= set(specials):
        sys.exit(f"openai-harmony lacks special ids {sorted(want - set(specials))[:5]}...")

    b2u = byte_to_unicode()
    text = lambda b: "".join(b2u[x] for x in b)  # noqa: E731
    tokens = [""] * VOCAB_SIZE
    types = [TOKEN_NORMAL] * VOCAB_SIZE
    merges = [""] * n_base
    for tok, rank in ranks.items():
        tokens[rank] = text(tok)
        if len(tok) > 1:
            parts = split_by_lower_ranks(ranks, tok)
            assert len(parts) == 2, (tok, parts)
            merges[rank] = text(parts[0]) + " " + text(parts[1])
    merges = [m for m in merges if m]
    for i in range(n_base, VOCAB_SIZE):
        tokens[i], types[i] = specials[i], TOKEN_CONTROL
    special_id = {t: i for i, t in specials.items() if i < VOCAB_SIZE}

    tmp = out.with_name(out.name + ".tmp")
    w = gguf.GGUFWriter(str(tmp), "gpt-oss")
    w.add_name("gpt-oss vocab (o200k_harmony)")
    # openai/gpt-oss-20b config.json, as GptOssModel.set_gguf_parameters writes it.
    w.add_context_length(131072)
    w.add_embedding_length(2880)
    w.add_block_count(24)
    w.add_feed_forward_length(2880)
    w.add_head_count(64)
    w.add_head_count_kv(8)
    w.add_rope_freq_base(150000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_expert_count(32)
    w.add_expert_used_count(4)
    w.add_key_length(64)
    w.add_value_length(64)
    w.add_sliding_window(128)
    w.add_expert_feed_forward_length(2880)
    w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
    w.add_rope_scaling_factor(32.0)
    w.add_rope_scaling_orig_ctx_len(4096)

    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-4o")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(special_id["<|startoftext|>"])
    w.add_eos_token_id(special_id["<|return|>"])
    w.add_pad_token_id(special_id["<|endoftext|>"])
    w.add_chat_template((TESTDATA / "templates" / "openai-gpt-oss-120b.jinja").read_text())

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    tmp.replace(out)
    print(f"{out}: {VOCAB_SIZE} tokens ({len(want)} special), {len(merges)} merges "
          f"in {time.time() - t0:.1f}s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--tiktoken", type=Path, default=DEFAULT_TIKTOKEN)
    a = ap.parse_args()
    if not a.tiktoken.is_file():
        sys.exit(f"{a.tiktoken} not found (run scripts/setup_testdata)")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    build(a.out, a.tiktoken)


if __name__ == "__main__":
    main()
