"""SOLID turn-by-turn generation (Askari et al. 2024) with continuous batching: a pool of dialogs
advances one utterance each per backend call (a new turn or a retry, in the same call), and a
finished dialog's place goes to the next plan at once, so calls stay full until the tail.

The first utterance of a plan that starts with (user, OQ) is the seed's conversation starter.
Every later utterance is written for its role and intents, from the entity, its type, the
background document and the transcript so far (the last ``history`` utterances; the prompt layout
in ``prompts.TURN`` lets consecutive turns of a dialog share their prefix). Every sampling seed is
derived from the run seed, the plan id, the utterance and the attempt, never from which plans share
a batch, so an interrupted and resumed run writes the same corpus as an uninterrupted one. Outputs are cleaned (role prefixes,
quotes, trailing fragments); an utterance that is empty, repeated or garbage is retried up to
``retries`` times, and a plan whose utterance still fails is rejected with the reason recorded,
never kept with a wrong label.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from solid_bench.llm.base import Request
from solid_bench.schema import Dialog, Utterance

from .base import BaseGenerator
from .instructions import InstructionBook
from .plans import DialogPlan
from .prompts import MERGE, TURN, turn_messages
from .registry import GENERATORS
from .runfolder import add_completions, empty_cost
from .seeding import ASKS, clip_words, foreign_script

_PREFIX = re.compile(r"^\s*[*_#>]*\s*(user|agent|assistant|system|you|me|reply|response|message|answer|next message)"
                     r"\s*[*_]*\s*(\([^)]*\))?\s*[:\-–]\s*[*_]*\s*", re.I)
_NEXT_SPEAKER = re.compile(r"\n\s*[*_]*\s*(user|agent|assistant)\s*[*_]*\s*:", re.I)
_LEAKS = ("conversation so far", "write the next message", "without a name or role", "{", "}", "<|im_")
_META = ("here's", "here is", "sure,", "sure!", "the user ", "as the agent", "as a user", "as the user",
         "this message", "my next message", "next message")
#: An instruction-tuned model's acknowledgement of the request before the message itself:
#: "Sure, here's my next message: ...", "Certainly! ...". Cut when a message follows it.
_ACK = re.compile(r"^(sure|certainly|of course|absolutely|okay|ok)\b[,!.:]*\s*"
                  r"((here'?s|here is)\b[^:\n]{0,40}:\s*)?", re.I)
_QUESTION = {"OQ", "RQ", "CQ", "FQ"}
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
    rest = _ACK.sub("", text, count=1)
    if rest != text and len(rest.split()) >= 3:
        text = rest[0].upper() + rest[1:]
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
    if set(intents) & _QUESTION and not ASKS.search(text):
        return "no_question"  # a question intent (alone or with others) needs a question or a request in the text
    if foreign_script(text):
        return "non_english"
    return None


@dataclass
class _State:
    plan: DialogPlan
    t: int = 0  # the utterance being written
    attempt: int = 0  # tries so far for utterance t
    utts: list = field(default_factory=list)
    cost: dict = field(default_factory=empty_cost)  # every call for this dialog
    cost_retries: dict = field(default_factory=empty_cost)  # the calls of its rejected tries
    attempts: list = field(default_factory=list)
    retries: int = 0
    failed: str | None = None
    failed_turn: int = -1

    @property
    def finished(self) -> bool:
        return self.failed is not None or self.t >= self.plan.n_turns


@GENERATORS.register("solid")
class SolidGenerator(BaseGenerator):
    """SOLID: self-seeded, multi-intent self-instructed, turn-by-turn dialog generation."""

    description = "SOLID (Askari et al. 2024): turn-by-turn generation from self-seeds and intent instructions"

    def __init__(self, backend, instructions: InstructionBook, meter=None, *, seed: int = 0,
                 max_new_tokens: int = 80, temperature: float = 0.7, retries: int = 2, history: int = 20,
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

    def call_seed(self, plan_id: str, t: int, attempt: int) -> int:
        """The sampling seed of one try: a function of the run seed, plan, utterance and attempt only."""
        return random.Random(f"{self.seed}:{plan_id}:{t}:{attempt}").randrange(2**31)

    def request(self, s: _State, t: int, attempt: int) -> Request:
        """The chat request for try ``attempt`` of utterance ``t`` of ``s`` (the transcript holds
        the last ``history`` utterances).

        A retry samples again at the run's temperature with its own seed; only greedy runs
        (temperature 0) retry at 0.9, as greedy would repeat.
        """
        seed = s.plan.seed
        role, intents = s.plan.turns[t]
        past = [(u.role, clip_words(u.text, self.utterance_words)) for u in s.utts[max(0, t - self.history):t]]
        messages = turn_messages(
            past, role, entity_name=seed.entity_name, entity_type=seed.entity_type or "topic",
            attribute=seed.attribute or "use", background=clip_words(seed.background, self.background_words) or "(none)",
            instruction=self.book.get(intents, role),
        )
        temperature = self.temperature if attempt == 0 or self.temperature > 0 else 0.9
        return Request(messages, max_new_tokens=self.max_new_tokens, temperature=temperature,
                       seed=self.call_seed(s.plan.plan_id, t, attempt), stop=("\nUser:", "\nAgent:"))

    def _start(self, plan: DialogPlan) -> _State:
        """A new dialog state; a plan opening with (user, OQ) gets its seed's starter as utterance 0."""
        s = _State(plan)
        role, intents = plan.turns[0] if plan.turns else ("", ())
        if role == "user" and tuple(intents) == ("OQ",) and plan.seed.starter:
            s.utts.append(Utterance(role, plan.seed.starter, tuple(intents)))
            s.t = 1
        return s

    def _take(self, s: _State, c) -> None:
        """Clean one completion for ``s``'s current utterance; accept it, or count a failed try."""
        add_completions(s.cost, [c])
        role, intents = s.plan.turns[s.t]
        text = clean_utterance(c.text, truncated=c.finish_reason == "length")
        reason = reject_reason(text, [u.text for u in s.utts], tuple(intents))
        if reason is None:
            s.utts.append(Utterance(role, text, tuple(intents)))
            s.retries += s.attempt
            s.t, s.attempt = s.t + 1, 0
            return
        add_completions(s.cost_retries, [c])
        s.attempts.append({"turn": s.t, "attempt": s.attempt, "reason": reason, "raw": c.text[:400]})
        s.attempt += 1
        if s.attempt > self.retries:
            s.failed, s.failed_turn = reason, s.t

    def stream(self, plans: Iterable[DialogPlan], batch_size: int,
               admit: Callable[[], bool] | None = None) -> Iterator[tuple[list[Dialog], list[dict]]]:
        """Continuous batching: yields (accepted, rejected) of the dialogs that finished at each step.

        A pool of up to ``batch_size`` dialogs is kept; each step sends every pooled dialog's next
        request (a new utterance or a retry) in ONE backend call (each request with its own seed), then
        finished dialogs leave the pool and queued plans take their places, so calls stay full
        until the tail. ``admit()`` returning False stops admitting plans (a token budget); the
        pool is still finished. Each request's seed depends on its plan, utterance and attempt only.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        queue = iter(plans)
        pool: list[_State] = []
        open_queue = True
        while True:
            done: list[_State] = []
            while open_queue and len(pool) < batch_size and (admit is None or admit()):
                plan = next(queue, None)
                if plan is None:
                    open_queue = False
                    break
                s = self._start(plan)
                (done if s.finished else pool).append(s)
            if open_queue and admit is not None and len(pool) < batch_size and not admit():
                open_queue = False
            if pool:
                completions = self.backend.complete([self.request(s, s.t, s.attempt) for s in pool])
                if self.meter is not None:
                    self.meter.add("turns", completions)
                for s, c in zip(pool, completions):
                    self._take(s, c)
                done += [s for s in pool if s.finished]
                pool = [s for s in pool if not s.finished]
            if done:
                yield self._outcomes(done)
            if not pool and not open_queue:
                return

    def generate(self, plans: list[DialogPlan], batch_size: int | None = None) -> tuple[list[Dialog], list[dict]]:
        """Generate plans (continuous batches of ``batch_size``, default all); returns (accepted, rejected)."""
        dialogs, rejected = [], []
        for d, r in self.stream(plans, batch_size or max(1, len(plans))):
            dialogs += d
            rejected += r
        return dialogs, rejected

    def _outcomes(self, states: list[_State]) -> tuple[list[Dialog], list[dict]]:
        model = self.backend.model_id
        dialogs, rejected = [], []
        for s in states:
            cost, cost_retries = ({k: (round(v, 4) if isinstance(v, float) else v) for k, v in c.items()}
                                  for c in (s.cost, s.cost_retries))
            if s.failed:
                role, intents = s.plan.turns[s.failed_turn]
                rejected.append({
                    "plan_id": s.plan.plan_id, "reason": s.failed, "turn": s.failed_turn, "role": role,
                    "intents": list(intents), "attempts": s.attempts, "cost": cost, "model": model,
                    "partial": [{"role": u.role, "text": u.text, "intents": list(u.intents)} for u in s.utts],
                })
                continue
            meta = {"generator": "solid", "model": model, "plan_id": s.plan.plan_id,
                    "prompt_hashes": self.prompt_hashes(), "cost": cost, "cost_retries": cost_retries, "retries": s.retries,
                    "rejected_attempts": [a["reason"] for a in s.attempts]}
            dialogs.append(Dialog(f"solid-{s.plan.plan_id}", "solid", tuple(s.utts), s.plan.seed, meta))
        return dialogs, rejected
