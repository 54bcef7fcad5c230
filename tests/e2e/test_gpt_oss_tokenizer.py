"""gpt-oss's tokenizer (o200k_harmony) in sluice against OpenAI's own encoders.

The vocabulary-only GGUF is built once by tests/reference/gpt_oss_vocab.py (as llama.cpp converts
gpt-oss) and cached at build/testdata/gpt-oss-vocab.gguf. `sluice tokenize --jsonl` encodes a
corpus with one load; the ids must equal openai-harmony's HARMONY_GPT_OSS encoding (tiktoken's
core, Rust) and, for ordinary text, bpe-openai's o200k_base; decode must give the text back.

Corpus: hand-written cases (English, code, numbers, whitespace runs, CJK, emoji, accents,
contractions, harmony markup), the strings of tests/reference/tokenizer/goldens, the cases of
llama.cpp's vocab goldens and 2000 seeded random strings over the character classes o200k's split
regex tells apart. Skipped only when openai-harmony or bpe-openai is not installed.
"""
from __future__ import annotations

import gzip
import importlib.util
import json
import os
import random
import subprocess
import time
from pathlib import Path

import pytest

from e2e_util import REFERENCE_DIR, REPO, check_ok

for _pkg in ("openai_harmony", "bpe_openai"):
    if importlib.util.find_spec(_pkg) is None:
        pytest.skip(f"{_pkg} not installed (pip install -r requirements.txt)",
                    allow_module_level=True)

import bpe_openai  # noqa: E402
import openai_harmony as oh  # noqa: E402

TESTDATA_BUILD = REPO / "build" / "testdata"
TIKTOKEN = TESTDATA_BUILD / "tiktoken" / "o200k_base.tiktoken"
GGUF = TESTDATA_BUILD / "gpt-oss-vocab.gguf"
VOCAB_SIZE = 201088

HAND_WRITTEN = [
    "", " ", "Hello world", "Hello, world! How are you doing today?",
    "The quick brown fox jumps over the lazy dog.",
    "I'm sure you're right, they'll see we've done it; he's here and I'd go.",
    "I'M SURE YOU'RE RIGHT; HE'S I'D WE'VE THEY'LL", "don't can't won't shouldn't y'all",
    "def fib(n: int) -> int:\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += a[i] * b[i];\n}\n",
    "SELECT name, COUNT(*) FROM users WHERE id <> 42 GROUP BY name;",
    "https://example.com/path/to/page?query=1&lang=en#anchor", "a/b/c//d///e",
    "0 1 12 123 1234 12345 123456 1234567 3.14159 -2.5e-10 1,000,000 0x1F 1_000",
    "2024-06-11T12:34:56Z", "    four spaces", "trailing   ", "\t\ttabs\t", "\n\n\n", " \n \n ",
    "a" + " " * 40 + "b", "x\r\ny\rz\n", "\u00a0nbsp\u00a0", "\u2028line sep\u2029",
    "你好，世界！这是一个测试。", "日本語のテキストとカタカナ、ひらがな。", "한국어 문장입니다.",
    "Привет, мир! Ёжик", "Γειά σου κόσμε", "مرحبا بالعالم", "नमस्ते दुनिया", "สวัสดีชาวโลก",
    "🙂🙃 👍🏽 👨‍👩‍👧‍👦 🇫🇷🇯🇵 ❤️‍🔥 🦙", "naïve café résumé coöperate Ångström ñandú",
    "e\u0301 o\u0308 a\u030a (combining marks)", "ÀÉÎÕÜ àéîõü ß ẞ ﬁ ﬂ", "Ⅻ ① ⅷ ½ ²³",
    "CamelCaseWord camelCase HTTPServer XMLHttpRequest iPhone", "ALLCAPS lowercase MiXeD",
    "<|start|>", "<|endoftext|>", "<|return|> <|call|> <|end|>", "<|reserved_200013|>",
    "<|start|>assistant<|channel|>analysis<|message|>Let me think about it.<|end|>",
    "<|start|>assistant<|channel|>final<|message|>The answer is 4.<|return|>",
    "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json"
    "<|message|>{\"city\": \"Paris\"}<|call|>",
    "<|start|>system<|message|>You are ChatGPT.\nReasoning: high\n\n# Valid channels: analysis,"
    " commentary, final.<|end|><|start|>user<|message|>Hi there<|end|><|start|>assistant",
    "<|start|assistant <|channel> |message|> <| end |> <<|start|>>", "<|startoftext|>text",
]


# Pieces the o200k regex treats differently: cased letters (Lu/Ll/Lt/Lm/Lo), marks, digits of
# several scripts, apostrophe suffixes, punctuation with / and newlines, whitespace kinds.
PIECES = ["a", "Z", "é", "É", "ß", "ǅ", "ʰ", "ー", "中", "ก", "\u0301", "\u0e31", "İ", "\u212a",
          "7", "٣", "४", "½", "'s", "'S", "'ll", "'LL", "'d", "'ve", "'re", "'t", "'m", "'", "/",
          "//", ".", "...", "!?", "-", "_", "$", "{", "}", "<|", "|>", "\"", "#", "@", "🙂", "👍🏽",
          "\u200d", " ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u2028", "\u200b"]


def random_texts(n: int, seed: int = 20250611) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 24))) for _ in range(n)]


def corpus() -> list[str]:
    texts = list(HAND_WRITTEN) + random_texts(2000)
    for f in sorted((REFERENCE_DIR / "tokenizer" / "goldens").glob("*.jsonl")):
        lines = f.read_text(encoding="utf-8").split("\n")
        texts += [json.loads(line)["text"] for line in lines if line]
    shared = Path(os.environ.get("SLUICE_TESTDATA", REPO.parent / "shared" / "testdata"))
    for inp in sorted(shared.glob("vocab/*.gguf.inp")):
        raw = inp.read_bytes().split(b"\n__ggml_vocab_test__\n")
        texts += [t.decode("utf-8") for t in raw if t]
    return list(dict.fromkeys(texts))


CORPUS = corpus()


@pytest.fixture(scope="module")
def gguf(venv_python) -> Path:
    if not TIKTOKEN.is_file():  # normally unpacked by scripts/setup_testdata
        TIKTOKEN.parent.mkdir(parents=True, exist_ok=True)
        src = Path(bpe_openai.__file__).parent / "data" / "o200k_base.tiktoken.gz"
        TIKTOKEN.write_bytes(gzip.decompress(src.read_bytes()))
    script = REFERENCE_DIR / "gpt_oss_vocab.py"
    if not GGUF.is_file() or GGUF.stat().st_mtime < script.stat().st_mtime:
        check_ok(subprocess.run([venv_python, str(script), str(GGUF), "--tiktoken", str(TIKTOKEN)],
                                capture_output=True, text=True, timeout=600), "gpt_oss_vocab.py")
    return GGUF


@pytest.fixture(scope="module")
def harmony(gguf):  # gguf: the .tiktoken file is in place
    os.environ["TIKTOKEN_ENCODINGS_BASE"] = str(TIKTOKEN.parent)
    return oh.load_harmony_encoding(oh.HarmonyEncodingName.HARMONY_GPT_OSS)


def sluice_jsonl(sluice_bin, gguf: Path, texts: list[str], *flags: str) -> list[dict]:
    r = check_ok(subprocess.run(
        [str(sluice_bin), "tokenize", "-m", str(gguf), "--jsonl", *flags],
        input="".join(json.dumps(t) + "\n" for t in texts), capture_output=True, text=True,
        timeout=600), "sluice tokenize --jsonl")
    rows = [json.loads(line) for line in r.stdout.split("\n") if line]
    assert len(rows) == len(texts)
    return rows


def report(what: str, texts: list[str], got: list[list[int]], want: list[list[int]]) -> None:
    bad = [(t, g, w) for t, g, w in zip(texts, got, want) if g != w]
    print(f"\n[gpt-oss] {what}: {len(texts) - len(bad)}/{len(texts)} equal")
    assert not bad, "\n".join(f"{t!r}\n  want {w}\n  got  {g}" for t, g, w in bad[:10])


def test_corpus_size():
    assert len(CORPUS) > 4000


def test_ordinary_text_matches_tiktoken(sluice_bin, gguf, harmony):
    rows = sluice_jsonl(sluice_bin, gguf, CORPUS)
    got = [r["ids"] for r in rows]
    report("encode (specials as text) vs openai-harmony", CORPUS, got,
           [harmony.encode(t, disallowed_special=()) for t in CORPUS])
    enc = bpe_openai.get_encoding("o200k_base")
    report("encode vs bpe-openai o200k_base", CORPUS, got, [enc.encode_ordinary(t) for t in CORPUS])
    bad = [(t, r["decoded"]) for t, r in zip(CORPUS, rows) if r["decoded"] != t]
    print(f"[gpt-oss] decode round trip: {len(CORPUS) - len(bad)}/{len(CORPUS)}")
    assert not bad, bad[:5]


def test_special_tokens_match_tiktoken(sluice_bin, gguf, harmony):
    rows = sluice_jsonl(sluice_bin, gguf, CORPUS, "--parse-special")
    want = [harmony.encode(t, allowed_special="all") for t in CORPUS]
    report("encode --parse-special vs openai-harmony (allowed_special=all)", CORPUS,
           [r["ids"] for r in rows], want)
    assert all(r["decoded"] == t for t, r in zip(CORPUS, rows))
    assert all(r["decoded"] == harmony.decode(w) for r, w in zip(rows, want))


def test_rendered_harmony_conversations(sluice_bin, gguf, harmony):
    """Conversations rendered to tokens by openai-harmony: their text, parsed with special tokens,
    gives the same ids."""
    M, R = oh.Message, oh.Role
    dev = oh.DeveloperContent.new().with_instructions("Answer briefly.")
    convs = [
        [M.from_role_and_content(R.SYSTEM, oh.SystemContent.new()),
         M.from_role_and_content(R.USER, "What is 2 + 2?")],
        [M.from_role_and_content(R.SYSTEM, oh.SystemContent.new()),
         M.from_role_and_content(R.DEVELOPER, dev),
         M.from_role_and_content(R.USER, "Weather in Paris? 天気は？ 🌦"),
         M.from_role_and_content(R.ASSISTANT, "User asks weather. Use tool.").with_channel(
             "analysis"),
         M.from_role_and_content(R.ASSISTANT, '{"city":"Paris"}').with_channel("commentary")
         .with_recipient("functions.get_weather").with_content_type("<|constrain|>json"),
         M.from_author_and_content(oh.Author.new(R.TOOL, "functions.get_weather"),
                                   '{"temp": 21}').with_channel("commentary").with_recipient(
                                       "assistant"),
         M.from_role_and_content(R.ASSISTANT, "It is 21 °C.").with_channel("final")],
    ]
    ids = [harmony.render_conversation_for_completion(oh.Conversation.from_messages(c),
                                                       R.ASSISTANT) for c in convs]
    texts = [harmony.decode_utf8(i) for i in ids]
    rows = sluice_jsonl(sluice_bin, gguf, texts, "--parse-special")
    report("rendered harmony conversations", texts, [r["ids"] for r in rows], ids)


def test_vocab_loads_fast(sluice_bin, gguf):
    """201088 tokens and 199742 merges: the load (a whole `sluice tokenize` run) stays quick."""
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        r = subprocess.run([str(sluice_bin), "tokenize", "-m", str(gguf)], input=b"",
                           capture_output=True, timeout=60)
        times.append(time.perf_counter() - t0)
        check_ok(r, "sluice tokenize")
    print(f"\n[gpt-oss] load + exit: best {min(times):.3f}s of {len(times)} runs")
    assert min(times) < 3.0
