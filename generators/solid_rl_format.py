"""SOLID-RL's one-step format: a prompt asking for a whole dialog, its target text, and a strict parser.

A target is the whole dialog, one utterance per line::

    [user|OQ] my outlook keeps asking for the password
    [agent|CQ_IR] which version do you use?

The tag holds the role and the intent codes joined by ``_`` (in the order requested); texts are
whitespace-normalised so they hold no newline. ``parse`` accepts an output only when its roles
and intent sets match the requested sequence position by position; otherwise it names why.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Sequence

from solid_bench.schema import INTENT_DESCRIPTIONS, ROLES, Dialog, Seed, Utterance, split_labels

#: A step of an intent sequence: (role, intent codes).
Step = tuple[str, tuple[str, ...]]

QUALITY_TAGS = ("high", "low")
#: A target line; a copied plan number ("2. ") or bullet ("- ") before the tag is tolerated.
LINE_RE = re.compile(r"^(?:\d+[.)]\s*|[-*]\s+)?\[(user|agent)\|([A-Za-z0-9]+(?:_[A-Za-z0-9]+)*)\]\s*(.*)$")

SYSTEM_PROMPT = (
    "You write realistic information-seeking dialogs between a user and an agent on a technical "
    "support forum. You write the whole dialog at once, one utterance per line, each line starting "
    "with [role|INTENTS] exactly as requested."
)


def normalise_text(text: str) -> str:
    """Collapse every run of whitespace (newlines included) to one space and strip the ends."""
    return " ".join(str(text).split())


def steps(intent_sequence: Iterable[Any]) -> tuple[Step, ...]:
    """Normalise a sequence of (role, intents) pairs, Utterances or plan steps to ((role, codes), ...)."""
    out = []
    for item in intent_sequence:
        if hasattr(item, "role") and hasattr(item, "intents"):
            role, intents = item.role, item.intents
        else:
            role, intents = item
        if isinstance(intents, str):
            intents = split_labels(intents)
        role = str(role).lower()
        if role not in ROLES:
            raise ValueError(f"role {role!r} is not one of {ROLES}")
        out.append((role, tuple(intents)))
    return tuple(out)


def tag_of(role: str, intents: Sequence[str]) -> str:
    """'[agent|FD_PA]': the line tag for one utterance."""
    return f"[{role}|{'_'.join(intents)}]"


def _seed_block(seed: Seed | None) -> str:
    if seed is None:
        return "Topic: (free choice)"
    rows = [
        ("Entity", seed.entity_name),
        ("Entity type", seed.entity_type),
        ("Attribute", seed.attribute),
        ("Background", normalise_text(seed.background)),
        ("Conversation starter", normalise_text(seed.starter)),
    ]
    return "\n".join(f"{k}: {v}" for k, v in rows if v)


def build_prompt(seed: Seed | None, intent_sequence: Iterable[Any], quality_tag: str | None = "high") -> tuple[tuple[str, str], ...]:
    """Chat messages ((role, content), ...) asking for the whole dialog for ``seed`` in one reply."""
    seq = steps(intent_sequence)
    if quality_tag is not None and quality_tag not in QUALITY_TAGS:
        raise ValueError(f"quality_tag must be one of {QUALITY_TAGS} or None, got {quality_tag!r}")
    codes = sorted({c for _, intents in seq for c in intents})
    legend = "\n".join(f"- {c}: {INTENT_DESCRIPTIONS.get(c, c)}" for c in codes)
    plan = "\n".join(f"{i + 1}. {tag_of(role, intents)}" for i, (role, intents) in enumerate(seq))
    parts = [_seed_block(seed)]
    if quality_tag is not None:
        parts.append(f"Quality: {quality_tag}")
    parts += [
        f"Intents:\n{legend}",
        f"Write a dialog of exactly {len(seq)} utterances, one per line, in this order:\n{plan}",
        "Start each line with its tag as shown, then one space, then the utterance text. Write nothing else.",
    ]
    return (("system", SYSTEM_PROMPT), ("user", "\n\n".join(parts)))


def format_target(dialog: Dialog | Iterable[Utterance]) -> str:
    """The whole dialog as the target text: '[role|INTENTS] text' per line, texts normalised."""
    utts = dialog.utterances if isinstance(dialog, Dialog) else tuple(dialog)
    return "\n".join(f"{tag_of(u.role, u.intents)} {normalise_text(u.text)}" for u in utts)


def parse(output: str, expected_sequence: Iterable[Any]) -> tuple[tuple[Utterance, ...] | None, str]:
    """Utterances from a model output, or (None, reason) when it breaks the requested sequence.

    Blank lines and Markdown code fences are skipped. Intents are compared as sets; the returned utterances carry the
    requested codes in the requested order. Reasons start with a stable word: ``empty-output``,
    ``garbage-line``, ``empty-text``, ``count-mismatch``, ``role-mismatch``, ``intent-mismatch``.
    """
    expected = steps(expected_sequence)
    lines = [ln.strip() for ln in str(output).replace("\r", "\n").split("\n")]
    lines = [ln for ln in lines if ln and not ln.startswith("```")]
    if not lines:
        return None, "empty-output: the model wrote nothing"
    found = []
    for i, line in enumerate(lines, 1):
        m = LINE_RE.match(line)
        if m is None:
            return None, f"garbage-line: line {i} does not start with [role|INTENTS]: {line[:60]!r}"
        role, joined, text = m.group(1), m.group(2), normalise_text(m.group(3) or "")
        if not text:
            return None, f"empty-text: utterance {i} has no text"
        found.append((role, split_labels(joined), text))
    if len(found) != len(expected):
        return None, f"count-mismatch: {len(found)} utterances, expected {len(expected)}"
    utts = []
    for i, ((role, intents, text), (want_role, want)) in enumerate(zip(found, expected), 1):
        if role != want_role:
            return None, f"role-mismatch: utterance {i} is {role}, expected {want_role}"
        if set(intents) != set(want) or len(intents) != len(set(intents)):
            return None, f"intent-mismatch: utterance {i} has {'_'.join(intents)}, expected {'_'.join(want)}"
        utts.append(Utterance(role, text, tuple(want)))
    return tuple(utts), "ok"
