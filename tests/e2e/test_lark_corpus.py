"""The Lark grammar corpus (tests/data/lark/corpus.json) agrees with Lark itself: every string
the corpus says a grammar accepts, Lark (the PyPI package, Earley parser) parses, and every string
it says the grammar rejects, Lark rejects. tests/unit/structured/lark_corpus_test.cc checks that
sluice's Lark front end accepts and rejects the same strings, so the two agree on the corpus."""
from __future__ import annotations

import json
from pathlib import Path

import lark
import pytest

CORPUS = json.loads((Path(__file__).parents[1] / "data" / "lark" / "corpus.json").read_text())


@pytest.mark.parametrize("case", CORPUS, ids=[c["name"] for c in CORPUS])
def test_lark_agrees_with_the_corpus(case):
    grammar = case.get("lark_grammar", case["grammar"])  # an equivalent Lark can load
    parser = lark.Lark(grammar, parser="earley", lexer="dynamic")
    for text in case["accept"]:
        parser.parse(text)  # raises when Lark rejects it
    for text in case["reject"]:
        with pytest.raises(lark.exceptions.LarkError):
            parser.parse(text)
