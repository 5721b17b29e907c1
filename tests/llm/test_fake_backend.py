"""The fake backend (a test double): deterministic, metered by whitespace, answers SOLID stages."""

from __future__ import annotations

from solid_bench.generators.prompts import BACKGROUND, ENTITY_TYPES
from solid_bench.llm import create_backend
from solid_bench.llm.base import Request


def test_deterministic_and_metered():
    backend = create_backend("fake")
    req = Request.chat(("system", "hello there"), ("user", "one two three"), max_new_tokens=5, seed=1)
    a, b = backend.complete([req]), backend.complete([req])
    assert a[0].text == b[0].text and backend.calls == 2
    assert a[0].prompt_tokens == 5  # whitespace words of both messages
    assert a[0].completion_tokens == len(a[0].text.split()) <= 5
    assert create_backend("fake", rules=None).complete([req])[0].text == a[0].text  # no rule matches this prompt


def test_answers_the_solid_stages_parseably():
    backend = create_backend("fake", na_rate=1.0)
    types, bg = backend.complete([Request(ENTITY_TYPES.messages(k=3)),
                                  Request(BACKGROUND.messages(entity_name="Excel", entity_type="Software"))])
    assert types.text.splitlines()[0] == "1. Software Product"
    assert bg.text == "N/A"
