"""Intent instructions: 24 single-intent ones (user and agent x 12 MSDialog intents, in our own
words) and multi-intent ones merged by the LLM with a one-shot prompt, cached per (combination,
role) in the run folder's ``instructions.json``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterable

from solid_bench.llm.base import Request
from solid_bench.schema import join_labels, split_labels

from .prompts import MERGE

#: (intent, role) -> what the speaker must do in this message.
SINGLE: dict[tuple[str, str], str] = {
    ("OQ", "user"): "Start the conversation: ask your main question about the topic, in your own words.",
    ("OQ", "agent"): "Open a new question about the topic that nobody has asked yet.",
    ("RQ", "user"): "Ask your earlier question again, rephrased, because it has not been answered well.",
    ("RQ", "agent"): "Repeat the user's question in your own words to restate what is being asked.",
    ("CQ", "user"): "Ask the agent to clarify something unclear in their last message.",
    ("CQ", "agent"): "Ask the user a clarifying question about what exactly they need or mean.",
    ("FD", "user"): "Add more details about your situation: what you tried, what you see, your setup.",
    ("FD", "agent"): "Add further details or facts that make the discussion more precise.",
    ("FQ", "user"): "Ask a follow-up question related to the answer you got.",
    ("FQ", "agent"): "Ask a follow-up question that moves the discussion forward.",
    ("IR", "user"): "Ask the agent for a specific piece of information (a link, a step, a setting).",
    ("IR", "agent"): "Ask the user for specific information you need (version, settings, error text, logs).",
    ("PA", "user"): "Suggest a possible answer or solution yourself.",
    ("PA", "agent"): "Give a possible answer or a concrete solution to the user's problem.",
    ("PF", "user"): "Say that the suggestion worked or was helpful, and thank the agent.",
    ("PF", "agent"): "React positively to the user's message, confirming that the solution is right.",
    ("NF", "user"): "Say that the suggestion did not work or did not help.",
    ("NF", "agent"): "Say that the approach discussed is not right or will not work.",
    ("GG", "user"): "Only greet or thank the other person, with no other content.",
    ("GG", "agent"): "Only greet the user or thank them, with no other content.",
    ("JK", "user"): "Write a short message unrelated to the question (off-topic chatter).",
    ("JK", "agent"): "Write a short message unrelated to the question (off-topic chatter).",
    ("O", "user"): "Write a short message that is neither a question, nor details, nor feedback.",
    ("O", "agent"): "Write a short message that is neither a question, nor an answer, nor feedback.",
}


def combination(intents: Iterable[str]) -> str:
    """The canonical key of an intent combination ('FD_NF')."""
    return join_labels(intents)


def fallback(intents: Iterable[str], role: str) -> str:
    """A merged instruction built without the LLM: the single ones joined (used when merging fails)."""
    parts = [SINGLE[(i, role)] for i in split_labels(combination(intents))]
    return "In one message: " + " Also: ".join(parts)


def merge_request(intents: Iterable[str], role: str, max_new_tokens: int = 80) -> Request:
    """The one-shot request that merges the single instructions of a combination."""
    parts = [SINGLE[(i, role)] for i in split_labels(combination(intents))]
    numbered = "\n".join(f"{k + 1}. {p}" for k, p in enumerate(parts))
    return Request(MERGE.messages(numbered=numbered), max_new_tokens=max_new_tokens)


def _content(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 3}


def covers(merged: str, parts: Iterable[str], share: float = 0.3) -> bool:
    """True when ``merged`` keeps at least ``share`` of each part's content words (not the example's)."""
    words = _content(merged)
    return all(len(_content(p) & words) >= share * len(_content(p)) for p in parts)


def clean_merged(text: str) -> str:
    """Keep the first paragraph of the merged instruction, without a label in front; '' if unusable."""
    text = text.strip().split("\n\n", 1)[0].strip()
    for prefix in ("Merged instruction:", "Merged:", "Instruction:"):
        if text.lower().startswith(prefix.lower()):
            text = text[len(prefix):].strip()
    text = " ".join(text.split()).strip("\"'")
    if len(text.split()) < 4 or sum(ch.isalpha() for ch in text) < 0.6 * len(text):
        return ""
    return text


class InstructionBook:
    """Instructions for every (combination, role), merged once and cached in ``instructions.json``."""

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else None
        self.entries: dict[str, dict] = {}
        if self.path and self.path.is_file():
            self.entries = json.loads(self.path.read_text(encoding="utf-8"))

    @staticmethod
    def key(intents: Iterable[str], role: str) -> str:
        """The cache key 'FD_NF|user'."""
        return f"{combination(intents)}|{role}"

    def get(self, intents: Iterable[str], role: str) -> str:
        """The instruction for ``intents`` spoken by ``role`` (single ones need no LLM)."""
        intents = split_labels(combination(intents))
        if len(intents) == 1:
            return SINGLE[(intents[0], role)]
        return self.entries[self.key(intents, role)]["instruction"]

    def ensure(self, needed: Iterable[tuple[tuple[str, ...], str]], backend, meter=None) -> int:
        """Merge every multi-intent (intents, role) not cached yet, in one batched call; returns #merged."""
        todo: dict[str, tuple[tuple[str, ...], str]] = {}
        for intents, role in needed:
            intents = split_labels(combination(intents))
            k = self.key(intents, role)
            if len(intents) > 1 and k not in self.entries and k not in todo:
                todo[k] = (intents, role)
        if not todo:
            return 0
        requests = [merge_request(i, r) for i, r in todo.values()]
        completions = backend.complete(requests)
        if meter is not None:
            meter.add("instructions", completions)
        for (k, (intents, role)), c in zip(todo.items(), completions):
            merged = clean_merged(c.text)
            if merged and not covers(merged, [SINGLE[(i, role)] for i in intents]):
                merged = ""  # e.g. the one-shot example copied back: not this combination's instruction
            self.entries[k] = {
                "combination": combination(intents),
                "role": role,
                "instruction": merged or fallback(intents, role),
                "fallback": not merged,
                "raw": c.text,
            }
        self.save()
        return len(todo)

    def save(self) -> None:
        """Write ``instructions.json`` atomically."""
        if self.path is None:
            return
        from .runfolder import write_json_atomic

        write_json_atomic(self.path, dict(sorted(self.entries.items())))
