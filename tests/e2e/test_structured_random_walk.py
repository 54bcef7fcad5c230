"""Random walks through JSON-schema grammars: every finished output must parse and validate.

For every schema in tests/data/json_schemas and both tokenizers (Qwen3, Llama 3.2),
`sluice grammar --random-walk` picks random tokens from the mask until the grammar lets it end;
each printed output is checked with Python's `json` and `jsonschema` (formats checked too).
With `--budget SLACK` every walk gets a token limit just above the fewest tokens that can finish
and the server's budget rule must steer all of them to a complete, valid output.
Schemas in unsupported/ must make the command fail with an error naming the keyword.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest

from e2e_util import REPO

SCHEMAS = sorted((REPO / "tests" / "data" / "json_schemas").glob("*.json"))
UNSUPPORTED = sorted((REPO / "tests" / "data" / "json_schemas" / "unsupported").glob("*.json"))
TOKENIZERS = ["qwen3", "llama3_2"]
WALKS = 6


def run_grammar(sluice_bin, args, timeout=300):
    return subprocess.run([str(sluice_bin), "grammar", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout)


def test_corpus_size():
    assert len(SCHEMAS) >= 55 and len(UNSUPPORTED) >= 5


@pytest.mark.parametrize("tokenizer", TOKENIZERS)
@pytest.mark.parametrize("schema_path", SCHEMAS, ids=lambda p: p.stem)
def test_random_walk_outputs_validate(sluice_bin, testdata, schema_path, tokenizer):
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    tok = testdata / "tokenizers" / tokenizer / "tokenizer.json"
    r = run_grammar(sluice_bin, ["--schema", schema_path, "--tokenizer", tok, "--random-walk", WALKS,
                                 "--seed", 7, "--max-tokens", 1500])
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.split("\n") if l.strip()]  # not splitlines(): U+2028 is data
    assert lines, f"no walk finished: {r.stderr}"
    check_outputs(schema_path, schema, lines)


def check_outputs(schema_path, schema, lines):
    validator_cls = jsonschema.validators.validator_for(schema)
    validator = validator_cls(schema, format_checker=validator_cls.FORMAT_CHECKER)
    for line in lines:
        text = json.loads(line)["text"]
        value = json.loads(text)  # must parse
        errors = list(validator.iter_errors(value))
        assert not errors, f"{schema_path.name}: {text!r}: {errors[0].message}"


@pytest.mark.parametrize("tokenizer,slack", [("qwen3", 0), ("llama3_2", 6)])
@pytest.mark.parametrize("schema_path", SCHEMAS, ids=lambda p: p.stem)
def test_budgeted_walks_all_end_complete_and_validate(sluice_bin, testdata, schema_path, tokenizer,
                                                      slack):
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    tok = testdata / "tokenizers" / tokenizer / "tokenizer.json"
    r = run_grammar(sluice_bin, ["--schema", schema_path, "--tokenizer", tok, "--random-walk", WALKS,
                                 "--seed", 11, "--budget", slack])
    assert r.returncode == 0, r.stderr  # an unfinished walk fails the command
    lines = [l for l in r.stdout.split("\n") if l.strip()]
    assert len(lines) == WALKS, r.stderr
    check_outputs(schema_path, schema, lines)


@pytest.mark.parametrize("schema_path", UNSUPPORTED, ids=lambda p: p.stem)
def test_unsupported_schema_is_rejected(sluice_bin, testdata, schema_path):
    schema = json.loads(schema_path.read_text())
    keyword = schema["$comment"].split(":")[-1].strip()
    tok = testdata / "tokenizers" / "qwen3" / "tokenizer.json"
    r = run_grammar(sluice_bin, ["--schema", schema_path, "--tokenizer", tok, "--random-walk", 1])
    assert r.returncode != 0
    assert f"'{keyword}'" in r.stderr, r.stderr
