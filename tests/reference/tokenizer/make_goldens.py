#!/usr/bin/env python3
"""Golden token ids for the sluice tokenizer tests, from Hugging Face `tokenizers`.

How the goldens were made (re-run to regenerate; the output is deterministic):

    .venv/bin/python tests/reference/tokenizer/make_goldens.py

with `tokenizers` 0.23.3 (the version is also checked below and printed), on the tokenizer.json
files in $SLUICE_TESTDATA/tokenizers/{llama3_2,qwen2_5,qwen3} (default ../shared/testdata).

Two more tokenizers cover the SentencePiece-style path (BPE with byte_fallback): they are trained
here with `tokenizers` on a fixed corpus and written to synthetic/<name>/tokenizer.json:
  spm_bytefallback  Llama-2 / Mistral layout: normalizer Prepend("▁") + Replace(" ", "▁"),
                    no pre-tokenizer, byte_fallback + fuse_unk, decoder Replace/ByteFallback/
                    Fuse/Strip, post-processor "<s> $A";
  metaspace         Metaspace pre-tokenizer (prepend_scheme "first", split) and decoder.
Their alphabet is limited, so characters outside it take the <0xNN> byte tokens.

For every corpus string s it writes goldens/<name>.jsonl lines {"text": s, "ids": [...]} with
ids = Tokenizer.from_file(...).encode(s, add_special_tokens=False).ids. HF `encode` always matches
added tokens (special ones too: none of these tokenizers sets split_special_tokens), so the C++ test
compares with parse_special=true. When HF's decode(ids) differs from s (only for text that the NFC
normalizer changes), the line also carries "decoded": decode(ids, skip_special_tokens=False).

The corpus (>= 2000 strings, fixed seed) mixes hand-written edge cases with random combinations:
multilingual text (CJK, Arabic, Hindi, Cyrillic, Greek, Thai, accents in NFC and NFD), code in
several languages, emoji (ZWJ sequences, skin tones, flags), odd whitespace (tabs, \\r\\n, runs of
spaces, leading/trailing spaces, NBSP, lone newlines), numbers of many lengths, contractions, and
special-token look-alikes.
"""
import json
import os
import random
import sys
import unicodedata

import tokenizers
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

EXPECTED_TOKENIZERS_VERSION = "0.23.3"
NAMES = ["llama3_2", "qwen2_5", "qwen3"]
SYNTHETIC = ["spm_bytefallback", "metaspace"]
SEED = 20240611
NUM_RANDOM = 2000

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
TESTDATA = os.environ.get("SLUICE_TESTDATA", os.path.join(REPO, "..", "shared", "testdata"))

FIXED = [
    "", " ", "  ", "   ", "\t", "\n", "\n\n", "\n\n\n", "\t\n", "\r\n", "\r\n\r\n", " \n ", "\u00a0",
    "a\u00a0b", "Hello world", " Hello world", "Hello World", " Hello World!", "Hello, world!",
    "  leading spaces", "trailing spaces   ", "\tTabbed\tline\t", "multiple    spaces   inside",
    "line1\nline2\r\nline3\rline4", "\n\nparagraph\n\n\nnext", " \t \n mixed \t\n",
    "I'm sure you're right, they'll see we've done it; he's here and I'd go.",
    "I'M SURE YOU'RE RIGHT, THEY'LL SEE WE'VE; HE'S I'D", "We'Ve a'lL 'RE 'M 'D 's 't",
    "don't can't won't shouldn't", "'s", "'", "''", "' era", "rock 'n' roll",
    "<|im_start|>", "<|im_end|>", "<|eot_id|>", "<|begin_of_text|>", "<|end_of_text|>", "<s>", "</s>",
    "<|endoftext|>", "<|im_", "<|im_start", "<|eot_id", "<|", "|>", "< |im_start| >",
    "<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n",
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
    "text<|im_end|>more text", "<|im_start|><|im_start|>", "<s>[INST] hi [/INST]</s>",
    "<think>\nreasoning\n</think>\n\nanswer", "<tool_call>\n{\"name\": \"f\"}\n</tool_call>",
    "0", "1", "12", "123", "1234", "12345", "123456", "1234567", "12345678", "123456789",
    "1234567890", "3.14159", "-42", "1,000,000", "1e10", "0x1F", "2024-06-11", "12:30:45",
    "$1,234.56", "50%", "١٢٣٤٥", "१२३४५", "½", "ied 4 ½ months", "Ⅻ", "²³",
    "Äpfel", "café", "cafe\u0301", "naïve résumé", "Zoë Saldaña", "façade", "Ångström",
    "日本語のテキスト", "中文文本测试", "한국어 텍스트", "Привет, мир!", "Ελληνικά",
    "مرحبا بالعالم", "नमस्ते दुनिया", "สวัสดีชาวโลก", "שלום עולם", "Türkçe ğüşıö",
    "ស្វាគមន៍", "ქართული", "አማርኛ",
    "🦙", "🚀 (normal) 😶‍🌫️ (multiple emojis concatenated) ✅ (only emoji that has its own token)",
    "👨‍👩‍👧‍👦", "👍🏽", "👋🏿👋🏻", "🏳️‍🌈", "🇺🇸🇯🇵", "❤️", "🧑🏾‍💻", "a🦙b",
    "this is 🦙.cpp", "w048 7tuijk dsdfhu", "нещо на Български", "!!!!!!", "??????", "......",
    "``````", "\"\"\"\"", "------=======", "  (", "\n =", "    Hello\n    Hello",
    "Hello, y'all! How are you 😁 ?我想在apple工作1314151天～",
    "def f(x):\n    return x ** 2\n", "int main() {\n\treturn 0;\n}\n",
    "for (let i = 0; i < 10; i++) { console.log(i); }", "SELECT * FROM t WHERE id = 42;",
    "#include <stdio.h>", "fn main() { println!(\"{}\", 1); }", "x=>x*2", "a_b_c __init__",
    "https://example.com/path?q=1&r=2#frag", "user@example.com", "C:\\Users\\me\\file.txt",
    "\u200b", "a\u200bb", "\ufeffBOM", "\u2028", "\u3000全角スペース", "\x00", "a\x00b", "\x7f",
]

WORDS = {
    "en": ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "tokenizer", "Hello",
           "World", "inference", "server", "batch", "cache", "GPU", "model", "OpenAI", "llama"],
    "fr": ["où", "déjà", "élève", "garçon", "forêt", "Noël", "hôtel", "naïveté"],
    "de": ["Straße", "Größe", "über", "Mädchen", "schön", "Äpfel", "Fußball"],
    "es": ["niño", "año", "mañana", "corazón", "¿Qué?", "¡Hola!"],
    "zh": ["你好", "世界", "机器学习", "自然语言处理", "模型", "推理", "我想在apple工作"],
    "ja": ["こんにちは", "世界", "東京", "カタカナ", "ひらがな", "日本語"],
    "ko": ["안녕하세요", "세계", "한국어", "토크나이저"],
    "ar": ["مرحبا", "العالم", "كتاب", "السلام", "عليكم"],
    "hi": ["नमस्ते", "दुनिया", "भाषा", "हिन्दी"],
    "ru": ["Привет", "мир", "Москва", "язык", "модель", "Български"],
    "el": ["Καλημέρα", "κόσμε", "αλφάβητο"],
    "th": ["สวัสดี", "ภาษาไทย"],
    "he": ["שלום", "עולם"],
}
CODE = [
    "def foo(bar):\n    return bar + 1\n", "class A:\n\tpass\n", "if (x != null) {\n  y++;\n}",
    "#include <vector>\nstd::vector<int> v{1,2,3};", "let mut s = String::new();",
    "func main() {\n\tfmt.Println(\"hi\")\n}", "console.log(`${a} + ${b}`);",
    "<div class=\"x\">text</div>", "SELECT name, COUNT(*) FROM users GROUP BY name;",
    "x = [i**2 for i in range(10)]", "$ ls -la | grep foo", "{\"key\": [1, 2.5, null, true]}",
    "public static void main(String[] args) {}", "a && b || !c", "i += 1; j -= 2; k *= 3;",
    "// comment\n/* block */", "# heading\n\n- item 1\n- item 2", "λx.x", "arr[0][1] = {};",
]
EMOJI = ["😀", "😂", "🥲", "🦙", "🚀", "✅", "❤️", "👍🏽", "👋🏿", "👨‍👩‍👧", "👩🏻‍🔬", "🏳️‍🌈", "🇫🇷",
         "🤖", "🔥", "✨", "🙏🏼", "😶‍🌫️", "🧑‍🤝‍🧑", "☕"]
SPECIAL_LIKE = ["<|im_start|>", "<|im_end|>", "<|eot_id|>", "<|begin_of_text|>", "<s>", "</s>",
                "<|endoftext|>", "<|im_", "<|", "<|start_header_id|>", "<think>", "</think>",
                "<|eot_id", "<<", ">>", "<|reserved_special_token_5|>"]
SPACES = [" ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", " \n", "\u00a0", "    ", "\t\t", " \t "]
PUNCT = [".", ",", "!", "?", ";", ":", "...", "—", "–", "(", ")", "\"", "'", "«", "»", "、", "。",
         "！", "？", "-", "_", "/", "\\", "@", "#", "%", "&", "*"]
CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "'Re", "'VE", "'D"]


def rand_number(rng):
    n = rng.choice([1, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 20, 30])
    digits = "".join(rng.choice("0123456789") for _ in range(n))
    form = rng.random()
    if form < 0.15:
        return digits + "." + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 4)))
    if form < 0.25:
        return "-" + digits
    return digits


def rand_piece(rng):
    r = rng.random()
    if r < 0.40:
        lang = rng.choice(list(WORDS))
        w = rng.choice(WORDS[lang])
        if rng.random() < 0.15:
            w = w.upper()
        if rng.random() < 0.10:
            w = unicodedata.normalize("NFD", w)  # decomposed accents
        return w
    if r < 0.50:
        return rand_number(rng)
    if r < 0.58:
        return rng.choice(EMOJI)
    if r < 0.66:
        return rng.choice(PUNCT)
    if r < 0.71:
        return rng.choice(WORDS["en"]) + rng.choice(CONTRACTIONS)
    if r < 0.77:
        return rng.choice(SPECIAL_LIKE)
    if r < 0.85:
        return rng.choice(CODE)
    return rng.choice(SPACES)


def rand_string(rng):
    n = rng.choice([1, 1, 2, 3, 4, 5, 6, 8, 10, 14, 20])
    parts = []
    for _ in range(n):
        parts.append(rand_piece(rng))
        if rng.random() < 0.7:
            parts.append(" " if rng.random() < 0.8 else rng.choice(SPACES))
    s = "".join(parts)
    if rng.random() < 0.1:
        s = rng.choice(SPACES) + s
    if rng.random() < 0.2:
        s = s.rstrip(" ") if rng.random() < 0.5 else s + rng.choice(SPACES)
    return s


def corpus():
    rng = random.Random(SEED)
    out, seen = [], set()
    for s in FIXED + [rand_string(rng) for _ in range(NUM_RANDOM)]:
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def train_synthetic(name, texts):
    """A small byte-fallback BPE trained on the corpus itself, plus the 256 <0xNN> tokens."""
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    if name == "spm_bytefallback":
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
        tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(),
                                         decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    else:
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
        tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first")
    trainer = trainers.BpeTrainer(vocab_size=1500, limit_alphabet=120, show_progress=False,
                                  special_tokens=["<unk>", "<s>", "</s>"])
    tok.train_from_iterator(texts, trainer)
    spec = json.loads(tok.to_str())
    vocab = spec["model"]["vocab"]
    for b in range(256):
        vocab.setdefault(f"<0x{b:02X}>", len(vocab))
    if name == "spm_bytefallback":
        spec["post_processor"] = json.loads(processors.TemplateProcessing(
            single="<s> $A", special_tokens=[("<s>", vocab["<s>"])]).__getstate__())
    tok = Tokenizer.from_str(json.dumps(spec))
    out_dir = os.path.join(HERE, "synthetic", name)
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "tokenizer.json")
    tok.save(path)
    return path


def main():
    print(f"tokenizers {tokenizers.__version__}")
    if tokenizers.__version__ != EXPECTED_TOKENIZERS_VERSION:
        print(f"warning: goldens were made with tokenizers {EXPECTED_TOKENIZERS_VERSION}",
              file=sys.stderr)
    texts = corpus()
    assert len(texts) >= 2000, len(texts)
    os.makedirs(os.path.join(HERE, "goldens"), exist_ok=True)
    paths = {n: os.path.join(TESTDATA, "tokenizers", n, "tokenizer.json") for n in NAMES}
    for n in SYNTHETIC:
        paths[n] = train_synthetic(n, texts[::2])
    for name, tok_path in paths.items():
        tok = Tokenizer.from_file(tok_path)
        path = os.path.join(HERE, "goldens", f"{name}.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for s in texts:
                ids = tok.encode(s, add_special_tokens=False).ids
                rec = {"text": s, "ids": ids}
                decoded = tok.decode(ids, skip_special_tokens=False)
                if decoded != s:
                    rec["decoded"] = decoded
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        print(f"{path}: {len(texts)} strings")


if __name__ == "__main__":
    main()
