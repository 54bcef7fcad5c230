"""POST /v1/rerank on random-weight cross-encoders from `sluice make-model --arch bert --head
classification` (BertForSequenceClassification with all-MiniLM-L6-v2's WordPiece vocabulary),
checked against the float64 NumPy reference (tests/reference/bert_embeddings.py --rerank, which
tokenizes the pairs with HF `tokenizers`): scores within 1e-3 (sigmoid and raw-logit models),
pair token counts equal to HF's, longest_first truncation of a pair past 512 tokens, batched
(many documents, concurrent requests) == single, top_n / return_documents / sorting, bad input as
OpenAI-shaped 400s and the task routing. Also make-model's random BertModel against the same
reference's embeddings.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import openai
import pytest

from e2e_util import REFERENCE_DIR, REPO, THREADS
from server_util import SluiceServer

QUERY = "How do cats keep themselves clean?"
LONG = " ".join(["Grooming takes up a large part of a cat's day: the rough tongue works as a comb, "
                 "and saliva cools the fur as it evaporates in warm weather."] * 20)
DOCS = [
    "Cats spend hours licking their fur with their rough tongues.",
    "Paris is the capital of France.",
    "Crème brûlée, naïve café! 中文 🦙",
    "The stock market fell sharply on Tuesday after the announcement.",
    "A cat",
    LONG,  # with the query past 512 tokens: cut longest_first
    "Dogs need baths; cats mostly clean themselves.",
]
TOL = 1e-3


def make_model(sluice_bin, out, *args):
    subprocess.run([str(sluice_bin), "make-model", "--arch", "bert", "--dtype", "F32", "-o",
                    str(out), *args], check=True, capture_output=True, timeout=120)
    return out


@pytest.fixture(scope="module")
def models(sluice_bin, tmp_path_factory):
    if not (REPO / "models" / "all-minilm-l6-v2" / "tokenizer.json").is_file():
        pytest.skip("models/all-minilm-l6-v2 is absent (its tokenizer is make-model's default)")
    root = tmp_path_factory.mktemp("rerank")
    ce = make_model(sluice_bin, root / "ce", "--head", "classification", "--seed", "7")
    logits = root / "ce-logits"  # the same weights, scored as raw logits
    shutil.copytree(ce, logits)
    cfg = json.loads((logits / "config.json").read_text())
    cfg["sentence_transformers"] = {"activation_fn": "torch.nn.modules.linear.Identity"}
    (logits / "config.json").write_text(json.dumps(cfg))
    emb = make_model(sluice_bin, root / "emb", "--seed", "3")
    return {"ce": ce, "logits": logits, "emb": emb}


def run_reference(venv_python, args, lines):
    stdin = "".join(json.dumps(x) + "\n" for x in lines)
    r = subprocess.run([venv_python, str(REFERENCE_DIR / "bert_embeddings.py"), *args],
                       input=stdin.encode(), capture_output=True, timeout=300, check=True)
    return [json.loads(line) for line in r.stdout.decode().splitlines()]


@pytest.fixture(scope="module")
def reference(models, venv_python):
    return run_reference(venv_python, ["--rerank", str(models["ce"])], [[QUERY, d] for d in DOCS])


@pytest.fixture(scope="module")
def server(sluice_bin, models):
    with SluiceServer(sluice_bin, "-m", str(models["ce"]), "--threads", str(THREADS)) as s:
        yield s


def rerank(server, **body):
    status, r = server.post("/v1/rerank", {"model": "m", **body})
    assert status == 200, r
    return r


def scores_by_index(r):
    return {x["index"]: x["relevance_score"] for x in r["results"]}


def test_scores_match_reference(server, reference):
    r = rerank(server, query=QUERY, documents=DOCS)
    got = scores_by_index(r)
    errors = [abs(got[i] - ref["score"]) for i, ref in enumerate(reference)]
    print(f"max |score - reference| {max(errors):.2e}")
    assert max(errors) < TOL
    assert len({round(ref["score"], 3) for ref in reference}) == len(DOCS)  # scores spread
#Token counts are HF's pair encodings (truncated to 512 where longer).
    assert len(reference[5]["ids"]) == 512
    assert r["usage"]["total_tokens"] == sum(len(ref["ids"]) for ref in reference)
    assert r["id"].startswith("rerank-") and r["model"]


def test_each_pair_tokenized_as_hf(server, reference):
    for doc, ref in zip(DOCS, reference):
        r = rerank(server, query=QUERY, documents=[doc])
        assert r["usage"]["total_tokens"] == len(ref["ids"]), doc[:30]


def test_raw_logits_model(sluice_bin, models, venv_python):
    ref = run_reference(venv_python, ["--rerank", str(models["logits"])], [[QUERY, d] for d in DOCS])
    with SluiceServer(sluice_bin, "-m", str(models["logits"]), "--threads", str(THREADS),
                      "--task", "score") as s:
        got = scores_by_index(rerank(s, query=QUERY, documents=DOCS))
    errors = [abs(got[i] - x["logit"]) for i, x in enumerate(ref)]
    print(f"max |logit - reference| {max(errors):.2e}")
    assert max(errors) < TOL
    assert any(abs(x["logit"]) > 1 for x in ref)  # not sigmoid-squashed


def test_sorted_top_n_and_documents(server):
    full = rerank(server, query=QUERY, documents=DOCS)["results"]
    scores = [x["relevance_score"] for x in full]
    assert scores == sorted(scores, reverse=True)
    assert sorted(x["index"] for x in full) == list(range(len(DOCS)))
    assert all(x["document"]["text"] == DOCS[x["index"]] for x in full)
    top = rerank(server, query=QUERY, documents=DOCS, top_n=2, return_documents=False)["results"]
    assert [x["index"] for x in top] == [x["index"] for x in full[:2]]
    assert all("document" not in x for x in top)
    objs = rerank(server, query=QUERY, documents=[{
  "text" : d} for d in DOCS], top_n=100)
    assert objs["results"] == full
    for route in ("/rerank", "/v2/rerank"):
        status, r = server.post(route, {"query": QUERY, "documents": DOCS})
        assert status == 200 and r["results"] == full


def test_batched_equals_single(server):
    together = scores_by_index(rerank(server, query=QUERY, documents=DOCS))
    single = {
i: scores_by_index(rerank(server, query=QUERY, documents=[d]))[0]
              for i, d in enumerate(DOCS)}
    assert together == single
    with ThreadPoolExecutor(16) as pool:
        futures = [pool.submit(rerank, server, query=QUERY, documents=[DOCS[i % len(DOCS)]])
                   for i in range(28)]
        futures += [pool.submit(rerank, server, query=QUERY, documents=DOCS) for _ in range(4)]
        got = [f.result() for f in futures]
    for i, r in enumerate(got[:28]):
        assert r["results"][0]["relevance_score"] == single[i % len(DOCS)]
    for r in got[28:]:
        assert scores_by_index(r) == together


@pytest.mark.parametrize("body, needle", [
    ({"query": "", "documents": ["a"]}, "query must not be empty"),
    ({"documents": ["a"]}, "query is required"),
    ({"query": "q"}, "documents is required"),
    ({"query": "q", "documents": []}, "documents must not be empty"),
    ({"query": "q", "documents": ["a", ""]}, "documents[1] must not be empty"),
    ({"query": "q", "documents": ["a"] * 1001}, "at most 1000"),
    ({"query": "q", "documents": "a"}, "documents must be a list"),
    ({"query": "q", "documents": [5]}, "documents[0] must be a string"),
    ({"query": "q", "documents": [{"txt": "a"}]}, "unknown field 'txt'"),
    ({"query": 5, "documents": ["a"]}, "query"),
    ({"query": "q", "documents": ["a"], "top_n": -1}, "top_n must not be negative"),
    ({"query": "q", "documents": ["a"], "top_n": "2"}, "top_n"),
    ({"query": "q", "documents": ["a"], "return_documents": "yes"}, "return_documents"),
    ({"query": "q", "documents": ["a"], "max_tokens_per_doc": 5}, "unknown parameter"),
])
def test_bad_input_is_400(server, body, needle):
    status, r = server.post("/v1/rerank", {"model": "m", **body})
    assert status == 400, r
    err = r["error"]
    assert err["type"] == "invalid_request_error", err
    assert needle in err["message"], err["message"]


def test_other_routes_say_rerank_is_served(server):
    for path, body in [("/v1/embeddings", {"input": "hi"}),
                       ("/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}]})]:
        status, r = server.post(path, {"model": "m", **body})
        assert status == 400 and "rerank model" in r["error"]["message"], r


def test_rerank_on_embedding_model_is_400(sluice_bin, models, venv_python):
    texts = ["Hello world", "Crème brûlée, naïve café! 中文 🦙", LONG[:900]]
    ref = run_reference(venv_python, [str(models["emb"])], texts)
    with SluiceServer(sluice_bin, "-m", str(models["emb"]), "--threads", str(THREADS)) as s:
        status, r = s.post("/v1/rerank", {"query": "q", "documents": ["a"]})
        assert status == 400 and "embedding model" in r["error"]["message"], r
#make - model's random BertModel embeds like the reference (mean pooling, normalized).
        c = openai.OpenAI(base_url=s.base_url + "/v1", api_key="none", max_retries=0)
        got = c.embeddings.create(model="m", input=texts, encoding_format="float").data
    errs = [float(np.abs(np.array(g.embedding) - np.array(w)).max()) for g, w in zip(got, ref)]
    print(f"max |embedding - reference| {max(errs):.2e}")
    assert max(errs) < 1e-4
    assert all(abs(np.linalg.norm(g.embedding) - 1) < 1e-5 for g in got)


def test_rerank_on_decoder_is_400(sluice_bin):
    model = REPO / "models" / "default.gguf"
    if not model.exists():
        pytest.skip("models/default.gguf is absent")
    with SluiceServer(sluice_bin, "-m", str(model), "--threads", str(THREADS)) as s:
        status, r = s.post("/v1/rerank", {"query": "q", "documents": ["a"]})
        assert status == 400 and "text generation model" in r["error"]["message"], r


@pytest.mark.parametrize("which, task, needle", [
    ("ce", "embed", b"serves rerank (--task rerank)"),
    ("ce", "generate", b"serves rerank only"),
    ("emb", "rerank", b"--task rerank needs a cross-encoder"),
    ("emb", "score", b"--task rerank needs a cross-encoder"),  # vLLM's name for the task
])
def test_task_flag_must_match_the_model(sluice_bin, models, which, task, needle):
    r = subprocess.run([str(sluice_bin), "serve", "-m", str(models[which]), "--task", task,
                        "--port", "0"], capture_output=True, timeout=60)
    assert r.returncode == 1 and needle in r.stderr, r.stderr


def test_multi_label_classifier_is_refused(sluice_bin, models, tmp_path):
    two = tmp_path / "two"
    shutil.copytree(models["ce"], two)
    cfg = json.loads((two / "config.json").read_text())
    cfg["id2label"] = {"0": "NO", "1": "YES"}
    (two / "config.json").write_text(json.dumps(cfg))
    r = subprocess.run([str(sluice_bin), "serve", "-m", str(two), "--port", "0"],
                       capture_output=True, timeout=60)
    assert r.returncode == 1 and b"with 2 labels" in r.stderr, r.stderr


def test_embed_cli_refuses_a_cross_encoder(sluice_bin, models):
    r = subprocess.run([str(sluice_bin), "embed", str(models["ce"])], input=b'"hi"\n',
                       capture_output=True, timeout=60)
    assert r.returncode == 1 and b"is a cross-encoder" in r.stderr, r.stderr


def test_models_route_lists_the_rerank_model(server):
    import urllib.request
    with urllib.request.urlopen(server.base_url + "/v1/models", timeout=30) as r:
        body = json.loads(r.read())
    assert [m["id"] for m in body["data"]] == ["ce"]
