"""SOLID turn-by-turn generation (Askari et al. 2024), batched: every dialog of a batch advances one
turn together in one backend call; rejected utterances are retried together too.

The first utterance of a plan that starts with (user, OQ) is the seed's conversation starter.
Every later utterance is written for its role and intents, from the entity, its type, the
background document and the last ``history`` utterances. Outputs are cleaned (role prefixes,
quotes, trailing fragments); an utterance that is empty, repeated or garbage is retried up to
``retries`` times, and a plan whose utterance still fails is rejected with the reason recorded,
never kept with a wrong label.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from solid_bench.llm.base import Request
from solid_bench.schema import Dialog, Utterance

from .instructions import InstructionBook
from .plans import DialogPlan
from .prompts import MERGE, TURN, turn_messages
from .registry import GENERATORS
from .runfolder import add_completions, empty_cost
from .seeding import clip_words

_PREFIX = re.compile(r"^\s*[*_#>]*\s*(user|agent|assistant|you|me|reply|response|message|answer|next message)"
                     r"\s*[*_]*\s*(\([^)]*\))?\s*[:\-–]\s*[*_]*\s*", re.I)
_NEXT_SPEAKER = re.compile(r"\n\s*[*_]*\s*(user|agent|assistant)\s*[*_]*\s*:", re.I)
_LEAKS = ("conversation so far", "write the next message", "without a name or role", "{", "}", "<|im_")
_META = ("here's", "here is", "sure,", "sure!", "the user ", "as the agent", "as a user", "as the user",
         "this message", "my next message", "next message")
_QUESTION_ONLY = {"OQ", "RQ", "CQ", "FQ"}
QUOTES = "\"'“”‘’`"


def clean_utterance(text: str, max_words: int = 150, truncated: bool = False) -> str:
    """Cut role prefixes, a following speaker's turn, wrapping quotes and a trailing fragment
    (only when ``truncated``: generation hit its token limit)."""
    text = text.strip()
    for _ in range(3):
        new = _PREFIX.sub("", text)
        if new == text:
            break
        text = new
    text = _NEXT_SPEAKER.split(text, maxsplit=1)[0].strip()
    text = " ".join(text.split())
    if len(text) >= 2 and text[0] in QUOTES:
        text = text[1:-1] if text[-1] in QUOTES else text[1:]
        text = text.strip()
    words = text.split()
    if len(words) > max_words:
        text = " ".join(words[:max_words])
    if text and text[-1] not in ".?!)\"'":
        last = max(text.rfind(". "), text.rfind("? "), text.rfind("! "))
        if last > 0 and truncated:  # generation stopped mid-sentence: keep the complete ones
            text = text[: last + 1]
    return text.strip()


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", text.lower()).split())


def reject_reason(text: str, previous: list[str], intents: tuple[str, ...]) -> str | None:
    """Why a cleaned utterance cannot be kept (empty, garbage, repeated, ...), or None."""
    letters = sum(ch.isalpha() for ch in text)
    if letters < 2:
        return "empty"
    low = text.lower()
    if any(leak in low for leak in _LEAKS) or letters < 0.5 * len(text):
        return "garbage"
    words = low.split()
    if len(words) >= 6 and max(words.count(w) for w in set(words)) > 0.5 * len(words):
        return "garbage"
    if low.startswith(("as an ai", "i'm an ai", "i am an ai", "i'm sorry, but i", "i am sorry, but i", "i cannot help")):
        return "refusal"
    if low.startswith(_META):
        return "meta"  # talks about the task instead of doing it
    norm, bag = _norm(text), set(_norm(text).split())
    for prev in previous:
        pbag = set(_norm(prev).split())
        if norm == _norm(prev) or (len(bag) >= 5 and len(bag & pbag) / len(bag | pbag) >= 0.8):
            return "repeated"
    if set(intents) <= _QUESTION_ONLY and "?" not in text:
        return "no_question"
    return None


@dataclass
class _State:
    plan: DialogPlan
    utts: list = field(default_factory=list)
    cost: dict = field(default_factory=empty_cost)
    attempts: list = field(default_factory=list)
    retries: int = 0
    failed: str | None = None
    failed_turn: int = -1


@GENERATORS.register("solid")
class SolidGenerator:
    """SOLID: self-seeded, multi-intent self-instructed, turn-by-turn dialog generation."""

    description = "SOLID (Askari et al. 2024): turn-by-turn generation from self-seeds and intent instructions"

    def __init__(self, backend, instructions: InstructionBook, meter=None, *, seed: int = 0,
                 max_new_tokens: int = 80, temperature: float = 0.7, retries: int = 2, history: int = 6,
                 background_words: int = 100, utterance_words: int = 60, **_ignored):
        self.backend, self.book, self.meter, self.seed = backend, instructions, meter, seed
        self.max_new_tokens, self.temperature, self.retries = max_new_tokens, temperature, retries
        self.history, self.background_words, self.utterance_words = history, background_words, utterance_words

    @staticmethod
    def needed_instructions(plans) -> set[tuple[tuple[str, ...], str]]:
        """Every (intents, role) the plans use, for InstructionBook.ensure."""
        return {(intents, role) for p in plans for role, intents in p.turns}

    def prompt_hashes(self) -> dict[str, str]:
        """Hashes of the templates this generator's turns use (kept in every dialog's meta)."""
        return {"turn": TURN.sha256, "merge_instructions": MERGE.sha256}

    def request(self, s: _State, t: int, attempt: int, call_seed: int) -> Request:
        """The chat request for utterance ``t`` of ``s`` (history bounded to the last few turns)."""
        seed = s.plan.seed
        role, intents = s.plan.turns[t]
        past = [(u.role, clip_words(u.text, self.utterance_words)) for u in s.utts[max(0, t - self.history):t]]
        messages = turn_messages(
            past, role, entity_name=seed.entity_name, entity_type=seed.entity_type or "topic",
            attribute=seed.attribute or "use", background=clip_words(seed.background, self.background_words) or "(none)",
            instruction=self.book.get(intents, role),
        )
        temperature = self.temperature if attempt == 0 else max(self.temperature, 0.9)
        return Request(messages, max_new_tokens=self.max_new_tokens, temperature=temperature, seed=call_seed,
                       stop=("\nUser:", "\nAgent:"))

    def _call_seed(self, t: int, attempt: int, batch_key: str) -> int:
        # one seed per call (backends batch only requests with equal decoding parameters)
        return random.Random(f"{self.seed}:{batch_key}:{t}:{attempt}").randrange(2**31)

    def generate(self, plans: list[DialogPlan]) -> tuple[list[Dialog], list[dict]]:
        """Generate one batch of plans; returns (accepted dialogs, rejection records)."""
        states = [_State(p) for p in plans]
        batch_key = plans[0].plan_id if plans else ""
        for t in range(max((p.n_turns for p in plans), default=0)):
            todo = []
            for s in states:
                if s.failed or t >= s.plan.n_turns:
                    continue
                role, intents = s.plan.turns[t]
                if t == 0 and role == "user" and tuple(intents) == ("OQ",) and s.plan.seed.starter:
                    s.utts.append(Utterance(role, s.plan.seed.starter, tuple(intents)))
                else:
                    todo.append(s)
            for attempt in range(self.retries + 1):
                if not todo:
                    break
                call_seed = self._call_seed(t, attempt, batch_key)
                completions = self.backend.complete([self.request(s, t, attempt, call_seed) for s in todo])
                if self.meter is not None:
                    self.meter.add("turns", completions)
                again = []
                for s, c in zip(todo, completions):
                    add_completions(s.cost, [c])
                    role, intents = s.plan.turns[t]
                    text = clean_utterance(c.text, truncated=c.finish_reason == "length")
                    reason = reject_reason(text, [u.text for u in s.utts], tuple(intents))
                    if reason is None:
                        s.utts.append(Utterance(role, text, tuple(intents)))
                        s.retries += attempt
                    else:
                        s.attempts.append({"turn": t, "attempt": attempt, "reason": reason, "raw": c.text[:400]})
                        again.append(s)
                todo = again
            for s in todo:
                s.failed, s.failed_turn = s.attempts[-1]["reason"], t
        return self._outcomes(states)

    def _outcomes(self, states: list[_State]) -> tuple[list[Dialog], list[dict]]:
        model = getattr(self.backend, "model_id", "")
        dialogs, rejected = [], []
        for s in states:
            cost = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in s.cost.items()}
            if s.failed:
                role, intents = s.plan.turns[s.failed_turn]
                rejected.append({
                    "plan_id": s.plan.plan_id, "reason": s.failed, "turn": s.failed_turn, "role": role,
                    "intents": list(intents), "attempts": s.attempts, "cost": cost, "model": model,
                    "partial": [{"role": u.role, "text": u.text, "intents": list(u.intents)} for u in s.utts],
                })
                continue
            meta = {"generator": "solid", "model": model, "plan_id": s.plan.plan_id,
                    "prompt_hashes": self.prompt_hashes(), "cost": cost, "retries": s.retries,
                    "rejected_attempts": [a["reason"] for a in s.attempts]}
            dialogs.append(Dialog(f"solid-{s.plan.plan_id}", "solid", tuple(s.utts), s.plan.seed, meta))
        return dialogs, rejected
