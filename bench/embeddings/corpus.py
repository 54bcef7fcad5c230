"""A fixed corpus of English-like sentences whose lengths in the model's tokenizer ([CLS] and [SEP]
included) are spread evenly over a range (10..120 by default): deterministic for a seed."""
from __future__ import annotations

import random

_SUBJECTS = ("the system", "our team", "a new report", "the city council", "this method", "the model",
             "every user", "the old library", "a small company", "the research group", "my neighbour",
             "the weather service", "the database", "a local school", "the committee", "the engine")
_VERBS = ("describes", "improves", "measured", "changed", "explains", "reduced", "supports", "compared",
          "announced", "replaced", "reviewed", "predicts", "handled", "collected", "published", "tested")
_OBJECTS = ("the quarterly results", "several hundred requests", "the river crossing", "a faster index",
            "its security policy", "the training schedule", "two different proposals", "the summer festival",
            "a list of known issues", "the cost of electricity", "the results of the survey",
            "customer feedback", "the network latency", "a set of benchmarks", "the public transport map")
_TAILS = ("after a long discussion", "in less than a week", "without any warning", "for the third time",
          "because of the storm", "during the night shift", "with surprising accuracy", "at the end of March",
          "despite strong objections", "on a tight budget", "as expected by most analysts",
          "in three European countries", "while the servers were down", "before the deadline")
_JOIN = (", and", ", while", "; however,", ", because", ", although", ". Meanwhile,", ". Later,")


def _clause(rng: random.Random) -> str:
    return f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} {rng.choice(_TAILS)}"


def sentences(count_tokens, n: int, lo: int = 10, hi: int = 120, seed: int = 0) -> list[str]:
    """n texts; text i has about lo + i*(hi-lo)/(n-1) tokens (shuffled order), by count_tokens(text)."""
    rng = random.Random(seed)
    targets = [lo + round(i * (hi - lo) / max(1, n - 1)) for i in range(n)]
    rng.shuffle(targets)
    out = []
    for target in targets:
        text = _clause(rng).capitalize()
        while count_tokens(text + ".") < target:
            text += f"{rng.choice(_JOIN)} {_clause(rng)}"
        words = text.split(" ")
        while len(words) > 2 and count_tokens(" ".join(words) + ".") > target:
            words.pop()  # trim back to the target, word by word
        out.append(" ".join(words).rstrip(",;") + ".")
    return out
