"""``fake``: a deterministic test double, NOT a model. Output is a function of the request hash.

It exists so the generators' logic (parsing, filtering, batching, retries, resume) can be tested
fast and exactly. With ``rules="solid"`` (the default) it recognises the SOLID prompt stages by
the first line of the system prompt and answers each in a parseable way; any other request gets
words drawn from a small vocabulary. Tokens are counted by whitespace; seconds are measured.
"""

from __future__ import annotations

import random
import string
import time
from typing import Callable, Sequence

from .. import BACKENDS
from ..base import Completion, Request

VOCAB = (
    "install update settings driver account error restart version window screen file folder network "
    "password sync backup option menu click issue problem message reset account server browser device"
).split()
TYPES = ("Software Product", "Programming Language", "Device", "City", "Musician", "Video Game", "Sports Team")
ATTRS = ("price", "installation", "compatibility", "history", "performance", "updates", "support", "license")

Responder = Callable[[Request, random.Random], str]


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(VOCAB) for _ in range(n))


def _field(text: str, before: str, after: str) -> str:
    """The text between ``before`` and ``after`` in ``text`` ('' when absent)."""
    start = text.find(before)
    if start < 0:
        return ""
    start += len(before)
    end = text.find(after, start)
    return text[start:end if end >= 0 else None]


class SolidRules:
    """Answers for the SOLID generator's prompt stages; ``na_rate``/``bad_rate`` inject failures."""

    def __init__(self, na_rate: float = 0.0, bad_rate: float = 0.0):
        self.na_rate = float(na_rate)
        self.bad_rate = float(bad_rate)

    def __call__(self, request: Request, rng: random.Random) -> str | None:
        from solid_bench.generators.prompts import stage_of

        system, user = request.messages[0][1], request.messages[-1][1]
        stage = stage_of(system)
        if stage == "entity_types":
            return "\n".join(f"{i + 1}. {t}" for i, t in enumerate(TYPES))
        if stage == "entity_names":
            letter = _field(user, "start with the letter ", ".").strip() or "A"
            etype = _field(user, 'type "', '"')
            # one numeric and one duplicate name: the noise filter must drop them
            suffix = "".join(w[0] for w in etype.split()).upper() or "X"  # names differ per type
            names = [f"{letter}{rng.choice(string.ascii_lowercase)}{w} {suffix}{rng.randrange(2, 99)}"
                     for w in rng.sample(VOCAB, 4)]
            return "\n".join([f"- {n}" for n in names] + ["12345", names[0]])
        if stage == "attributes":
            return "\n".join(rng.sample(ATTRS, 5))
        if stage == "background":
            if rng.random() < self.na_rate:
                return "N/A"
            name = _field(user, "facts about ", ", a ")
            return f"{name} is a well known thing. It has a {_words(rng, 6)}. People use it daily."
        if stage == "starter":
            attr = _field(user, "question about the ", " of ")
            name = _field(user, "Mention ", " by name.")
            return f'"How do I check the {attr} of {name}? My {_words(rng, 3)} fails."'
        if stage == "merge_instructions":
            items = user.rsplit("Instructions:\n", 1)[-1].split("\nMerged instruction:")[0].splitlines()
            return "Merged: In one message, " + " Then, ".join(i.split(". ", 1)[-1] for i in items)
        if stage == "turn":
            role = "agent" if "the next message, by the support agent" in user else "user"
            if rng.random() < self.bad_rate:
                return rng.choice(["", "!!!! ???? ....", "User:"])
            return f"{role.capitalize()}: Well, about the {_words(rng, 2)}, try {_words(rng, 5)} first. Is the {_words(rng, 1)} ok?"
        return None


@BACKENDS.register("fake")
class FakeBackend:
    """Deterministic fake completions for tests (a test double, not a language model)."""

    description = "deterministic test double (not a model): answers are a function of the request hash"

    def __init__(self, model: str | None = None, rules: str | Sequence[Responder] | None = "solid",
                 delay: float = 0.0, na_rate: float = 0.0, bad_rate: float = 0.0, **_ignored):
        self.model_id = model or "fake"
        if rules == "solid":
            rules = (SolidRules(na_rate=na_rate, bad_rate=bad_rate),)
        self.rules: tuple[Responder, ...] = tuple(rules or ())
        self.delay = float(delay)
        self.calls = 0  # complete() invocations, so tests can count batches

    def _answer(self, request: Request) -> str:
        rng = random.Random(request.cache_key(self.model_id))
        for rule in self.rules:
            out = rule(request, rng)
            if out is not None:
                return out
        return _words(rng, 1 + rng.randrange(min(12, max(1, request.max_new_tokens))))

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
