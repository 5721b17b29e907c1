"""``fake``: a deterministic test double, NOT a model. Output is a function of the request hash.

It exists so the generators' logic (parsing, filtering, batching, retries, resume) can be tested
fast and exactly. Its answers come from *rules*: responders ``(request, rng) -> str | None`` tried
in order, the first answer that is not None winning; a request no rule answers gets words drawn
from a small vocabulary. A rule set is named by a string (``rules="solid"``, the default) and
found in ``FAKE_RULES``, which outside code joins through the entry-point group
``solid_bench.fake_rules``: the SOLID rules live beside the SOLID prompts they mimic
(``generators/fake_rules.py``), so this layer knows nothing of any generator. A rule set is a
callable ``(na_rate, bad_rate) -> responder``; the two rates inject failures (an "N/A" answer, a
garbage answer) where the rule set has such answers. Tokens are counted by whitespace; seconds
are measured.
"""

from __future__ import annotations

import random
import time
from typing import Callable, Sequence

from ...errors import UserError
from ...registry import Registry
from .. import BACKENDS
from ..base import BaseBackend, Completion, Request

VOCAB = (
    "install update settings driver account error restart version window screen file folder network "
    "password sync backup option menu click issue problem message reset account server browser device"
).split()

Responder = Callable[[Request, random.Random], "str | None"]

#: Named rule sets: ``name -> callable(na_rate, bad_rate) -> Responder`` (entry points: solid_bench.fake_rules).
FAKE_RULES: Registry = Registry("fake-backend rule set", entry_point_group="solid_bench.fake_rules")


def words(rng: random.Random, n: int) -> str:
    """``n`` words drawn from the fake's vocabulary."""
    return " ".join(rng.choice(VOCAB) for _ in range(n))


def between(text: str, before: str, after: str) -> str:
    """The text between ``before`` and ``after`` in ``text`` ('' when absent)."""
    start = text.find(before)
    if start < 0:
        return ""
    start += len(before)
    end = text.find(after, start)
    return text[start:end if end >= 0 else None]


@BACKENDS.register("fake")
class FakeBackend(BaseBackend):
    """Deterministic fake completions for tests (a test double, not a language model).

    ``rules``: a rule-set name from ``FAKE_RULES`` (built with ``na_rate`` and ``bad_rate``), or
    responders given directly. Other options are accepted and ignored, so any backend option
    list can be passed to the fake.
    """

    description = "deterministic test double (not a model): answers are a function of the request hash"

    def __init__(self, model: str | None = None, rules: str | Sequence[Responder] | None = "solid",
                 delay: float = 0.0, na_rate: float = 0.0, bad_rate: float = 0.0, **_ignored):
        self.model_id = model or "fake"
        if isinstance(rules, str):
            if rules not in FAKE_RULES:
                raise UserError(f"The fake backend has no rule set {rules!r} (known: {', '.join(FAKE_RULES.names()) or 'none'}); "
                                "rule sets join through the entry-point group solid_bench.fake_rules, so reinstall the "
                                "package that declares it (for solid-bench's own: pip install -e .).")
            rules = (FAKE_RULES.get(rules)(na_rate=na_rate, bad_rate=bad_rate),)
        self.rules: tuple[Responder, ...] = tuple(rules or ())
        self.delay = float(delay)
        self.calls = 0  # complete() invocations, so tests can count batches

    def _answer(self, request: Request) -> str:
        rng = random.Random(request.cache_key(self.model_id))
        for rule in self.rules:
            out = rule(request, rng)
            if out is not None:
                return out
        return words(rng, 1 + rng.randrange(min(12, max(1, request.max_new_tokens))))

    def complete(self, requests: Sequence[Request]) -> list[Completion]:
        """One completion per request, in order; ``delay`` seconds per call (to test interruptions)."""
        self.calls += 1
        start = time.perf_counter()
        if self.delay:
            time.sleep(self.delay)
        texts = [self._answer(r) for r in requests]
        share = (time.perf_counter() - start) / max(1, len(requests))
        out = []
        for r, text in zip(requests, texts):
            words = text.split()[: r.max_new_tokens]
            text = text if len(text.split()) <= r.max_new_tokens else " ".join(words)
            prompt_tokens = sum(len(c.split()) for _, c in r.messages)
            out.append(Completion(text, prompt_tokens, len(words), share, False, "stop"))
        return out
