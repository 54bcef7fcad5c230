"""Decoder embeddings (Qwen3-Embedding style: the final-norm hidden state of the last token,
L2-normalized) through POST /v1/embeddings, and decoder rerank scores (Qwen3-Reranker style:
P(yes) over the yes/no logits) through `sluice rerank`, on random qwen3 models from make-model:
  GGUF f16 with --task embed, against the float64 NumPy reference (gguf_numpy_logits.py --hidden);
  a safetensors directory dressed as Qwen3-Embedding ships (modules.json with last-token pooling
  and Normalize, a tokenizer.json post-processor that appends <|endoftext|>, is_matryoshka), picked
  as an embedding model by --task auto, against mlx-lm in float32 (mlx_logits.py --hidden).
Also: dimensions (truncate, re-normalize; 400 where the model does not declare Matryoshka),
concurrent and list inputs equal to single ones, bad input as 400s.
"""
from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import openai
import pytest

from e2e_util import PROMPT_TEXT, THREADS, check_ok, read_f32
from server_util import SluiceServer

ENDOFTEXT = 151643  # <|endoftext|> of the qwen3 tokenizer
TEXTS = ["Hello world", PROMPT_TEXT, "Crème brûlée, naïve café! 中文 🦙"]


def cosine(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def unit(v) -> np.ndarray:
    v = np.asarray(v, np.float64)
    return v / np.linalg.norm(v)


@pytest.fixture(scope="module")
def gguf_model(make_model):
    return make_model("qwen3", "gguf-f16")


@pytest.fixture(scope="module")
def embedding_dir(make_model, tmp_path_factory):
    """The safetensors model with Qwen3-Embedding's sentence-transformers files."""
    out = tmp_path_factory.mktemp("qwen3-embedding") / "model"
    shutil.copytree(make_model("qwen3", "safetensors-bf16"), out)
    (out / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize",
         "type": "sentence_transformers.models.Normalize"}]))
    (out / "1_Pooling").mkdir()
    (out / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": 256, "pooling_mode_cls_token": False,
         "pooling_mode_mean_tokens": False, "pooling_mode_lasttoken": True}))
    (out / "2_Normalize").mkdir()
    config = json.loads((out / "config.json").read_text())
    (out / "config.json").write_text(json.dumps({**config, "is_matryoshka": True}))
    tok = json.loads((out / "tokenizer.json").read_text())
    eos = {"id": "<|endoftext|>", "type_id": 0}
    tok["post_processor"] = {"type": "Sequence", "processors": [
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        {"type": "TemplateProcessing",
         "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": eos}],
         "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": eos},
                  {"Sequence": {"id": "B", "type_id": 1}}, {"SpecialToken": {**eos, "type_id": 1}}],
         "special_tokens": {"<|endoftext|>": {"id": "<|endoftext|>", "ids": [ENDOFTEXT],
                                              "tokens": ["<|endoftext|>"]}}}]}
    (out / "tokenizer.json").write_text(json.dumps(tok))
    return out


def client_of(server):
    return openai.OpenAI(base_url=server.base_url + "/v1", api_key="none", max_retries=0)


@pytest.fixture(scope="module")
def gguf_server(sluice_bin, gguf_model):
    with SluiceServer(sluice_bin, "-m", str(gguf_model), "--task", "embed", "--threads",
                      str(THREADS), "--max-model-len", "128") as s:
        yield s


@pytest.fixture(scope="module")
def st_server(sluice_bin, embedding_dir):
    with SluiceServer(sluice_bin, "-m", str(embedding_dir), "--threads", str(THREADS)) as s:
        yield s


def hf_ids(tokenizer_json, text, special=True):
    from tokenizers import Tokenizer
    return Tokenizer.from_file(str(tokenizer_json)).encode(text, add_special_tokens=special).ids


def test_gguf_matches_numpy(gguf_server, gguf_model, default_tokenizer, reference, record,
                            tmp_path):
    client = client_of(gguf_server)
    ids = [hf_ids(default_tokenizer("qwen3"), t) for t in TEXTS]
    r = client.embeddings.create(model="m", input=ids, encoding_format="float")
    for i, (d, tokens) in enumerate(zip(r.data, ids)):
        reference("gguf_numpy_logits.py", gguf_model, "--tokens", " ".join(map(str, tokens)),
                  "-o", tmp_path / "h.f32", "--hidden")
        want = unit(read_f32(tmp_path / "h.f32"))
        assert len(d.embedding) == 256 and abs(np.linalg.norm(d.embedding) - 1) < 1e-5
        c = cosine(d.embedding, want)
        record(f"decoder embedding qwen3 gguf-f16 input {i} ({len(tokens)} tokens): "
               f"1 - cosine {1 - c:.1e} vs numpy f64")
        assert c >= 0.9999
    # Text goes through the model's tokenizer (this one's post-processor adds nothing).
    text = client.embeddings.create(model="m", input=TEXTS[1], encoding_format="float")
    assert text.data[0].embedding == r.data[1].embedding
    assert r.usage.prompt_tokens == sum(map(len, ids))


def test_auto_task_appends_eos_and_matches_mlx(st_server, embedding_dir, reference, record,
                                               tmp_path):
    client = client_of(st_server)
    ids = hf_ids(embedding_dir / "tokenizer.json", TEXTS[1])
    assert ids[-1] == ENDOFTEXT  # HF tokenizers applies the post-processor as sluice must
    r = client.embeddings.create(model="m", input=TEXTS[1], encoding_format="float")
    assert r.usage.prompt_tokens == len(ids)
    by_ids = client.embeddings.create(model="m", input=ids, encoding_format="float")
    assert by_ids.data[0].embedding == r.data[0].embedding
    reference("mlx_logits.py", embedding_dir, "--tokens", " ".join(map(str, ids)), "-o",
              tmp_path / "h.f32", "--dtype", "float32", "--hidden")
    c = cosine(r.data[0].embedding, read_f32(tmp_path / "h.f32"))
    record(f"decoder embedding qwen3 safetensors-bf16 (+EOS): 1 - cosine {1 - c:.1e} vs mlx-lm f32")
    assert c >= 0.9999
    without_eos = client.embeddings.create(model="m", input=ids[:-1], encoding_format="float")
    assert cosine(without_eos.data[0].embedding, r.data[0].embedding) < 0.9999


def test_dimensions_truncate_and_renormalize(st_server):
    client = client_of(st_server)
    full = client.embeddings.create(model="m", input=TEXTS[0], encoding_format="float")
    for dims in (1, 32, 256):
        r = client.embeddings.create(model="m", input=TEXTS[0], dimensions=dims,
                                     encoding_format="float")
        v = r.data[0].embedding
        assert len(v) == dims and abs(np.linalg.norm(v) - 1) < 1e-5
        assert np.allclose(v, unit(full.data[0].embedding[:dims]), atol=1e-6)
    for dims in (0, 257):
        with pytest.raises(openai.BadRequestError) as e:
            client.embeddings.create(model="m", input="x", dimensions=dims)
        assert "dimensions must be in [1, 256]" in e.value.body["message"]
        assert e.value.body["param"] == "dimensions"


def test_dimensions_refused_without_matryoshka(gguf_server):
    with pytest.raises(openai.BadRequestError) as e:
        client_of(gguf_server).embeddings.create(model="m", input="x", dimensions=64)
    assert "fixed 256 dimensions" in e.value.body["message"]


def test_batched_and_concurrent_equal_single(gguf_server):
    client = client_of(gguf_server)
    single = [client.embeddings.create(model="m", input=t, encoding_format="float").data[0].embedding
              for t in TEXTS]
    listed = client.embeddings.create(model="m", input=TEXTS, encoding_format="float")
    with ThreadPoolExecutor(12) as pool:
        futures = [pool.submit(client.embeddings.create, model="m", input=TEXTS[i % len(TEXTS)],
                               encoding_format="float") for i in range(24)]
        got = [f.result().data[0].embedding for f in futures]
    for i, v in enumerate([d.embedding for d in listed.data] + got):
        want = single[i % len(TEXTS)]
        assert cosine(v, want) >= 0.999999 and np.abs(np.subtract(v, want)).max() < 1e-5


@pytest.mark.parametrize("body, needle", [
    ({"input": [5, 151669]}, "token id 151669 is out of range"),
    ({"input": [[1, 2], [3, 999999]]}, "input[1]: "),
    ({"input": [[7] * 129]}, "exceeds the context length 128"),
    ({"input": "word " * 200}, "exceeds the context length 128"),
    ({"input": [[]]}, "empty token list"),
    ({"input": "x", "dimensions": "8"}, "dimensions must be an integer"),
])
def test_bad_input_is_400(gguf_server, body, needle):
    with pytest.raises(openai.BadRequestError) as e:
        client_of(gguf_server).post("/embeddings", body={"model": "m", **body}, cast_to=object)
    assert e.value.body["type"] == "invalid_request_error"
    assert needle in e.value.body["message"], e.value.body["message"]
    assert e.value.body["param"] in ("input", "dimensions")


def test_generation_routes_say_what_is_served(gguf_server):
    with pytest.raises(openai.BadRequestError) as e:
        client_of(gguf_server).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}])
    assert "embedding model" in e.value.body["message"]


RERANK_QUERY = "What is the capital of China?"
RERANK_DOCS = ["The capital of China is Beijing.",
               "Gravity is a force that attracts two bodies towards each other.", "中文 🦙 yes"]
PREFIX = ('<|im_start|>system\nJudge whether the Document meets the requirements based on the '
          'Query and the Instruct provided. Note that the answer can only be "yes" or "no".'
          '<|im_end|>\n<|im_start|>user\n')
SUFFIX = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query"


def test_rerank_scores_match_numpy(sluice, gguf_model, default_tokenizer, reference, record,
                                   tmp_path):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(default_tokenizer("qwen3")))
    r = check_ok(sluice("rerank", "-m", gguf_model, "--query", RERANK_QUERY, "--threads", THREADS,
                        input="".join(json.dumps(d) + "\n" for d in RERANK_DOCS)), "sluice rerank")
    got = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(got) == len(RERANK_DOCS)
    yes, no = tok.token_to_id("yes"), tok.token_to_id("no")
    for doc, g in zip(RERANK_DOCS, got):
        body = f"<Instruct>: {INSTRUCTION}\n<Query>: {RERANK_QUERY}\n<Document>: {doc}"
        ids = sum((tok.encode(p, add_special_tokens=False).ids for p in (PREFIX, body, SUFFIX)), [])
        assert g["tokens"] == len(ids)
        reference("gguf_numpy_logits.py", gguf_model, "--tokens", " ".join(map(str, ids)), "-o",
                  tmp_path / "l.f32")
        logits = read_f32(tmp_path / "l.f32").astype(np.float64)
        want = 1.0 / (1.0 + np.exp(logits[no] - logits[yes]))
        record(f"decoder rerank qwen3 gguf-f16: P(yes) {g['score']:.6f} vs numpy {want:.6f}")
        assert abs(g["score"] - want) < 1e-3


def test_rerank_route_on_a_decoder(sluice, sluice_bin, gguf_model):
    """`serve --task rerank` on a decoder: POST /v1/rerank gives sluice rerank's P(yes), best
    first, with its token counts; the other tasks' routes are 400s that name the task."""
    r = check_ok(sluice("rerank", "-m", gguf_model, "--query", RERANK_QUERY, "--threads", THREADS,
                        input="".join(json.dumps(d) + "\n" for d in RERANK_DOCS)), "sluice rerank")
    cli = [json.loads(line) for line in r.stdout.splitlines()]
    with SluiceServer(sluice_bin, "-m", str(gguf_model), "--task", "rerank", "--threads",
                      str(THREADS), "--deterministic") as s:
        body = {"query": RERANK_QUERY, "documents": RERANK_DOCS, "top_n": 2}
        status, d = s.post("/v1/rerank", body)
        assert status == 200, d
        assert [x["index"] for x in d["results"]] == sorted(
            range(len(cli)), key=lambda i: -cli[i]["score"])[:2]
        for x in d["results"]:
            assert abs(x["relevance_score"] - cli[x["index"]]["score"]) < 1e-5
            assert x["document"]["text"] == RERANK_DOCS[x["index"]]
        assert d["usage"]["total_tokens"] == sum(c["tokens"] for c in cli)
        for route, body in (("/v1/embeddings", {"input": "x"}),
                            ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}]})):
            status, bad = s.post(route, body)
            assert status == 400 and "rerank model" in bad["error"]["message"], bad
