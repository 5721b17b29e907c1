"""The ``fake`` backend's rules for SOLID's prompts: parseable answers for every stage, with injected failures.

The fake backend (``solid_bench/llm/backends/fake.py``) is a test double; these rules make it answer
the SOLID generator's stages in a form the generator can parse, so the generation logic (seeding,
instruction merging, turns, retries, resume) is tested fast and exactly. The stage is told by the
first line of the system prompt (``prompts.stage_of``). Registered as the rule set ``solid`` through
the entry-point group ``solid_bench.fake_rules`` (pyproject.toml), which keeps the dependency
pointing from generators to llm, never back.
"""

from __future__ import annotations

import random
import string

from solid_bench.llm.backends.fake import VOCAB, between, words
from solid_bench.llm.base import Request

from .prompts import stage_of

TYPES = ("Software Product", "Programming Language", "Device", "City", "Musician", "Video Game", "Sports Team")
ATTRS = ("price", "installation", "compatibility", "history", "performance", "updates", "support", "license")


class SolidRules:
    """Answers for the SOLID generator's prompt stages; ``na_rate``/``bad_rate`` inject failures."""

    def __init__(self, na_rate: float = 0.0, bad_rate: float = 0.0):
        self.na_rate = float(na_rate)
        self.bad_rate = float(bad_rate)

    def __call__(self, request: Request, rng: random.Random) -> str | None:
        system, user = request.messages[0][1], request.messages[-1][1]
        stage = stage_of(system)
        if stage == "entity_types":
            return "\n".join(f"{i + 1}. {t}" for i, t in enumerate(TYPES))
        if stage == "entity_names":
            letter = between(user, "start with the letter ", ".").strip() or "A"
            etype = between(user, 'type "', '"')
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
            name = between(user, "facts about ", ", a ")
            return f"{name} is a well known thing. It has a {words(rng, 6)}. People use it daily."
        if stage == "starter":
            attr = between(user, "question about the ", " of ")
            name = between(user, "Mention ", " by name.")
            return f'"How do I check the {attr} of {name}? My {words(rng, 3)} fails."'
        if stage == "merge_instructions":
            items = user.rsplit("Instructions:\n", 1)[-1].split("\nMerged instruction:")[0].splitlines()
            return "Merged: In one message, " + " Then, ".join(i.split(". ", 1)[-1] for i in items)
        if stage == "turn":
            role = "agent" if "the next message, by the support agent" in user else "user"
            if rng.random() < self.bad_rate:
                return rng.choice(["", "!!!! ???? ....", "User:"])
            return f"{role.capitalize()}: Well, about the {words(rng, 2)}, try {words(rng, 5)} first. Is the {words(rng, 1)} ok?"
        return None
