"""Intent instructions: 24 single-intent ones (user and agent x 12 MSDialog intents) and
multi-intent ones merged by the LLM with a one-shot prompt, cached per (combination, role) in the
run folder's ``instructions.json``.

Each single instruction follows the intent's definition in the MSDialog taxonomy of Qu et al.
("Analyzing and Characterizing User Intent in Information-seeking Conversations", SIGIR 2018,
arXiv:1804.08759: the table of user intent codes, labels and descriptions), quoted in
``DEFINITIONS``; the wording for each speaker is ours, since the taxonomy describes an intent
once for both speakers (or for the one that usually has it).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterable

from solid_bench.llm.base import Request
from solid_bench.schema import join_labels, split_labels

from .prompts import MERGE

SOURCE = "Qu et al. 2018 (SIGIR), MSDialog user intent taxonomy, arXiv:1804.08759"

#: code -> (label, description), as in the taxonomy of Qu et al. 2018 (``SOURCE``).
DEFINITIONS: dict[str, tuple[str, str]] = {
    "OQ": ("Original Question", "The first question from the user to initiate the dialog"),
    "RQ": ("Repeat Question", "Other users repeat a previous question"),
    "CQ": ("Clarifying Question", "User or agent asks for clarifications"),
    "FD": ("Further Details", "User or agent provides more details"),
    "FQ": ("Follow Up Question", "User asks for follow up questions about relevant issues"),
    "IR": ("Information Request", "Agent asks for information of users"),
    "PA": ("Potential Answer", "A potential answer or solution provided by agents"),
    "PF": ("Positive Feedback", "User provides positive feedback for working solutions"),
    "NF": ("Negative Feedback", "User provides negative feedback for useless solutions"),
    "GG": ("Greetings/Gratitude", "Greet each other or express gratitude"),
    "JK": ("Junk", "There is no useful information in the utterance"),
    "O": ("Others", "Utterances cannot be categorized using other classes"),
}

#: (intent, role) -> what the speaker must do in this message (each from ``DEFINITIONS[intent]``).
SINGLE: dict[tuple[str, str], str] = {
    ("OQ", "user"): "Ask your original question: describe your problem with the topic and ask for help with it.",
    ("OQ", "agent"): "Ask an original question of your own about the topic, one nobody in the thread has asked.",
    ("RQ", "user"): "Repeat your earlier question in other words, because it has not been answered.",
    ("RQ", "agent"): "As another forum member with the same problem, repeat the original question in your own words.",
    ("CQ", "user"): "Ask a clarifying question about something in the agent's last message that you did not understand.",
    ("CQ", "agent"): "Ask the user a clarifying question about what exactly their problem is or what they need.",
    ("FD", "user"): "Give further details about your problem: what you tried, what you see, your version or setup.",
    ("FD", "agent"): "Give further details or facts that make the discussion more precise.",
    ("FQ", "user"): "Ask a follow-up question about a related issue that the answer so far raises.",
    ("FQ", "agent"): "Ask a follow-up question about a related issue that the discussion raises.",
    ("IR", "user"): "Ask the agent for a specific piece of information (a link, a setting, a step).",
    ("IR", "agent"): "Ask the user for specific information you need to help them (version, settings, error message, logs).",
    ("PA", "user"): "Suggest a potential answer or solution yourself.",
    ("PA", "agent"): "Give a potential answer or a concrete solution to the user's problem.",
    ("PF", "user"): "Give positive feedback: say that the suggested solution worked or helped, and thank the agent.",
    ("PF", "agent"): "Give positive feedback on the solution discussed: confirm that it works and is right.",
    ("NF", "user"): "Give negative feedback: say that the suggested solution did not work or did not help.",
    ("NF", "agent"): "Give negative feedback on the solution discussed: say that it does not work or does not help.",
    ("GG", "user"): "Only greet the other person or thank them, with no other content.",
    ("GG", "agent"): "Only greet the user or thank them, with no other content.",
    ("JK", "user"): "Write a short message with no useful information for the discussion (off-topic chatter).",
    ("JK", "agent"): "Write a short message with no useful information for the discussion (off-topic chatter).",
    ("O", "user"): "Write a short message that is no question, detail, answer, feedback or greeting (for example a remark about the forum).",
    ("O", "agent"): "Write a short message that is no question, detail, answer, feedback or greeting (for example a remark about the forum).",
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
        from solid_bench.outputs import write_json_atomic

        write_json_atomic(self.path, dict(sorted(self.entries.items())))
