#!/usr/bin/env python3
"""WordPiece goldens from Hugging Face `tokenizers` for the real all-MiniLM-L6-v2 tokenizer.

    .venv/bin/python tests/reference/tokenizer/wordpiece_goldens.py MODEL_DIR OUT.jsonl

(scripts/setup_testdata runs it with models/all-minilm-l6-v2 and build/testdata/wordpiece/
minilm.jsonl). With tokenizers 0.23.3 on MODEL_DIR/tokenizer.json, truncation and padding turned
off (the file asks for both: 128 tokens, padded), one JSON line per case:

  {"a": s, "ids": [...], "type_ids": [...], "plain": [...], "decoded": "..."}  single sequence:
      ids/type_ids = encode(s) with special tokens, plain = without them,
      decoded = decode(ids) (skip_special_tokens=True)
  {"a": s, "b": t, "ids": [...], "type_ids": [...]}                            pair
  {"a": s, "b": t, "max_length": n, "ids": [...], "type_ids": [...]}           pair, truncated
      with strategy longest_first to n tokens in all

The corpus is BERT-specific cases (accents in NFC and NFD, CJK, control and format characters,
long words, [CLS]-like text) plus make_goldens.py's fixed cases and 300 of its random strings
(seed below): multilingual text, code, emoji, odd whitespace, numbers. Deterministic.
"""
import json
import os
import random
import sys

import tokenizers
from tokenizers import Tokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_goldens  # noqa: E402  (its corpus pieces)

EXPECTED_TOKENIZERS_VERSION = "0.23.3"
SEED = 35
NUM_RANDOM = 300
MAX_LENGTHS = [3, 4, 5, 8, 13, 32]

BERT_FIXED = [
    "This is an example sentence", "Each sentence is converted", "The quick brown fox.",
    "HeLLo WoRLD", "unaffable", "unbelievably antidisestablishmentarianism",
    "supercalifragilisticexpialidocious" * 3, "a" * 99, "a" * 100, "a" * 101, "é" * 101,
    "x" * 250 + " short", "Crème brûlée à la façon de Noël", "Cre\u0300me bru\u0302le\u0301e",
    "İstanbul İİ", "ǅemal ǈ", "ΣΊΣΥΦΟΣ", "ﬁnancial ﬂow", "Ⅻ ① ㎏", "Straße GROSSE",
    "中文文本测试", "我想在apple工作1314151天", "漢字かなカナ한글", "𠀀𠀁 𪜀", "豈更車",
    "日本語のテキスト、句読点。", "「引用」『二重』", "ﾊﾝｶｸ", "Ｆｕｌｌｗｉｄｔｈ １２３",
    "[CLS] a [SEP] b [SEP]", "[cls] lower [sep]", "[MASK]ed [PAD] [UNK]", "x[SEP]y",
    "[CLS][SEP]", "[ CLS ]", "a\u00adb soft\u00adhyphen", "zero\u200bwidth", "zw\u200djoiner",
    "bidi \u202eoverride\u202c", "\ue000private\uf8ff", "nul\x00byte", "bell\x07 esc\x1b",
    "tab\tnew\nline\rcarriage", "nbsp\u00a0thin\u2009ideographic\u3000space", "\u0085nel",
    "\u2028line\u2029para", "e\u0301\u0301\u0301", "\u0301leading mark", "a\u20dd enclosing",
    "ā á ǎ à", "Ωmega µicro", "$100 + 5% = ^~`|<>", "¿¡Hola!?", "…“quotes”‘single’",
    "a—b–c-d", "(a)[b]{c}<d>", "C++ C# F# .NET node.js", "don't can't won't y'all",
    "e.g. i.e. U.S.A.", "3.14 1,000 10^9 2e-5", "http://x.org/a_b?c=d&e=f#g",
    "user_name@example.co.uk", "snake_case camelCase PascalCase kebab-case",
    "🦙 llama 🚀 rocket ✅ check", "👨‍👩‍👧‍👦 family", "❤️ love", "🇫🇷🇩🇪", "😀😂🥲",
    "αβγ δεζ", "Привет мир", "שלום", "مرحبا", "नमस्ते", "สวัสดี", "ქართული", "Ελληνικά",
    "\u0130\u0131 i\u0307", "ǰ ẞ ß", "ꭰꭱ", "ᏸᏹ", "", " ", "\n\n", "##", "##ing", "a##b",
]


def corpus():
    rng = random.Random(SEED)
    out, seen = [], set()
    for s in BERT_FIXED + make_goldens.FIXED + [make_goldens.rand_string(rng)
                                                  for _ in range(NUM_RANDOM)]:
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    model_dir, out_path = sys.argv[1], sys.argv[2]
    if tokenizers.__version__ != EXPECTED_TOKENIZERS_VERSION:
        print(f"note: tokenizers {tokenizers.__version__}, goldens were checked with "
              f"{EXPECTED_TOKENIZERS_VERSION}", file=sys.stderr)
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    texts = corpus()
    rng = random.Random(SEED)
    lines = []
    for s in texts:
        e = tok.encode(s)
        lines.append({"a": s, "ids": e.ids, "type_ids": e.type_ids,
                      "plain": tok.encode(s, add_special_tokens=False).ids,
                      "decoded": tok.decode(e.ids)})
    for i, s in enumerate(texts):
        t = texts[(i * 7 + 3) % len(texts)]
        e = tok.encode(s, t)
        lines.append({"a": s, "b": t, "ids": e.ids, "type_ids": e.type_ids})
    for i in range(len(texts) // 2):
        s, t = rng.choice(texts), rng.choice(texts)
        n = rng.choice(MAX_LENGTHS)
        tok.enable_truncation(max_length=n, strategy="longest_first")
        e = tok.encode(s, t)
        tok.no_truncation()
        lines.append({"a": s, "b": t, "max_length": n, "ids": e.ids, "type_ids": e.type_ids})
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    tmp = out_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    os.replace(tmp, out_path)
    print(f"wordpiece goldens: {len(texts)} texts, {len(lines)} cases -> {out_path}")


if __name__ == "__main__":
    main()
