"""Dialog records: Utterance, Seed, Dialog, LabelSet, and their one-JSON-line form."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .errors import UserError

SCHEMA_VERSION = 1
ROLES = ("user", "agent")

#: The MSDialog intent scheme (Qu et al. 2018), the default label set.
MSDIALOG_LABELS = ("OQ", "RQ", "CQ", "FD", "FQ", "IR", "PA", "PF", "NF", "GG", "JK", "O")

#: One-line definitions, used by prompts (generators, llm-fewshot) and docs.
INTENT_DESCRIPTIONS = {
    "OQ": "Original Question: the first question from the user that starts the dialog",
    "RQ": "Repeat Question: the user repeats or rephrases an earlier question",
    "CQ": "Clarifying Question: a question asking for clarification or more details",
    "FD": "Further Details: provides more details, facts or context",
    "FQ": "Follow-up Question: a related follow-up question about the topic",
    "IR": "Information Request: asks the other party for specific information (logs, versions, settings)",
    "PA": "Potential Answer: a possible answer or solution to the question",
    "PF": "Positive Feedback: says a solution worked or thanks positively",
    "NF": "Negative Feedback: says a solution did not work or is unsatisfactory",
    "GG": "Greetings/Gratitude: greets or thanks, with no other content",
    "JK": "Junk: content unrelated to the information need",
    "O": "Others: anything that fits no other category",
}


@dataclass(frozen=True)
class LabelSet:
    """An ordered set of intent codes; column order of every label matrix."""

    name: str
    codes: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(set(self.codes)) != len(self.codes):
            raise ValueError(f"label set {self.name!r} has duplicate codes")

    def __len__(self) -> int:
        return len(self.codes)

    def __iter__(self):
        return iter(self.codes)

    def __contains__(self, code: object) -> bool:
        return code in self.codes

    def index(self, code: str) -> int:
        """Column of ``code``."""
        return self.codes.index(code)

    def check(self, intents: Iterable[str], where: str) -> tuple[str, ...]:
        """Return ``intents`` as a tuple, or a UserError naming ``where`` and the bad label."""
        out = tuple(intents)
        for code in out:
            if code not in self.codes:
                raise UserError(
                    f"{where}: unknown label {code!r}; the {self.name} label set is {' '.join(self.codes)}."
                )
        return out


MSDIALOG = LabelSet("msdialog", MSDIALOG_LABELS)


def split_labels(joined: str) -> tuple[str, ...]:
    """'FD_PA' -> ('FD', 'PA'); the MSDialog-IntentPred way of writing a label combination."""
    return tuple(part for part in joined.strip().split("_") if part)


def join_labels(intents: Iterable[str], labels: LabelSet = MSDIALOG) -> str:
    """('PA', 'FD') -> 'FD_PA': the canonical combination string, codes in alphabetical order."""
    return "_".join(sorted(set(intents)))


@dataclass(frozen=True)
class Utterance:
    """One turn: who speaks, what they say, and its intents."""

    role: str
    text: str
    intents: tuple[str, ...]


@dataclass(frozen=True)
class Seed:
    """What a synthetic dialog is about (SOLID self-seeding output)."""

    entity_name: str
    entity_type: str = ""
    attribute: str = ""
    background: str = ""
    starter: str = ""

    def to_dict(self) -> dict[str, str]:
        return {
            "entity_name": self.entity_name,
            "entity_type": self.entity_type,
            "attribute": self.attribute,
            "background": self.background,
            "starter": self.starter,
        }


@dataclass(frozen=True)
class Dialog:
    """An ordered list of utterances with provenance. One dialog is one JSON line."""

    id: str
    source: str
    utterances: tuple[Utterance, ...]
    seed: Seed | None = None
    meta: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def intent_sequence(self) -> tuple[tuple[str, ...], ...]:
        return tuple(u.intents for u in self.utterances)


def dialog_to_dict(dialog: Dialog) -> dict[str, Any]:
    """The JSON-line form of a dialog (the schema: docs/formats.md)."""
    out: dict[str, Any] = {
        "id": dialog.id,
        "source": dialog.source,
        "utterances": [{"role": u.role, "text": u.text, "intents": list(u.intents)} for u in dialog.utterances],
    }
    if dialog.seed is not None:
        out["seed"] = dialog.seed.to_dict()
    if dialog.meta:
        out["meta"] = dict(dialog.meta)
    return out


def dialog_to_json(dialog: Dialog) -> str:
    """One compact JSON line (no newline), keys in a stable order."""
    return json.dumps(dialog_to_dict(dialog), ensure_ascii=False, separators=(",", ":"))


def _show(value: Any, n: int = 40) -> str:
    """A JSON value as written, cut short for a message."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= n else text[: n - 1] + "…"


def _intents(raw: Any, where: str) -> tuple[str, ...]:
    """'FD_PA' or ['FD', 'PA'] -> ('FD', 'PA'); anything else (null, a number) is a UserError."""
    if isinstance(raw, str):
        return split_labels(raw)
    if isinstance(raw, list) and all(isinstance(c, str) for c in raw):
        return tuple(raw)
    raise UserError(f"{where}: 'intents' must be a list of label codes or a string such as \"FD_PA\", not {_show(raw)}.")


def dialog_from_dict(obj: Any, labels: LabelSet = MSDIALOG, where: str = "<dict>") -> Dialog:
    """Parse and validate one dialog record; errors name ``where`` (file:line)."""
    if not isinstance(obj, dict):
        raise UserError(f"{where}: expected a JSON object for a dialog, got {type(obj).__name__}.")
    for key in ("id", "utterances"):
        if key not in obj:
            raise UserError(f"{where}: dialog has no {key!r} field; see the dialog schema in docs/formats.md.")
    if not isinstance(obj["id"], (str, int)) or isinstance(obj["id"], bool) or not str(obj["id"]).strip():
        raise UserError(f"{where}: the dialog 'id' must be a non-empty string, not {_show(obj['id'])}.")
    if not isinstance(obj.get("source") or "", str):
        raise UserError(f"{where}: 'source' must be a string (the corpus name), not {_show(obj['source'])}.")
    if not isinstance(obj.get("meta") or {}, dict) or not isinstance(obj.get("seed") or {}, dict):
        raise UserError(f"{where}: 'seed' and 'meta' must be JSON objects when present.")
    raw_utts = obj["utterances"]
    if not isinstance(raw_utts, list) or not raw_utts:
        raise UserError(f"{where}: 'utterances' must be a non-empty list.")
    utts = []
    for i, u in enumerate(raw_utts):
        if not isinstance(u, dict) or not {"role", "text", "intents"} <= set(u):
            raise UserError(f"{where}: utterance {i} needs 'role', 'text' and 'intents'.")
        role = u["role"].lower() if isinstance(u["role"], str) else None
        if role not in ROLES:
            raise UserError(f"{where}: utterance {i} has role {_show(u['role'])}; use 'user' or 'agent'.")
        if not isinstance(u["text"], str):
            raise UserError(f"{where}: utterance {i} has 'text': {_show(u['text'])}; the text must be a string.")
        utts.append(Utterance(role, u["text"], labels.check(_intents(u["intents"], f"{where} utterance {i}"), f"{where} utterance {i}")))
    seed = None
    if isinstance(obj.get("seed"), dict):
        s = obj["seed"]
        seed = Seed(**{k: str(s.get(k, "") or "") for k in ("entity_name", "entity_type", "attribute", "background", "starter")})
    return Dialog(
        id=str(obj["id"]),
        source=obj.get("source") or "",
        utterances=tuple(utts),
        seed=seed,
        meta=dict(obj.get("meta") or {}),
    )


#: meta fields a reader derives when it loads a corpus (not part of its content, so not of its hash).
DERIVED_META = ("cost_all_in",)


def dialogs_sha256(dialogs: Iterable[Dialog]) -> str:
    """Content hash of dialogs in order (their canonical JSON lines), for provenance.

    Meta fields derived at load time (``DERIVED_META``: the all-in cost share a run folder's
    manifest gives each dialog) are left out, so re-costing a run does not change its corpus."""
    h = hashlib.sha256()
    for d in dialogs:
        if d.meta and any(k in d.meta for k in DERIVED_META):
            d = Dialog(d.id, d.source, d.utterances, d.seed, {k: v for k, v in d.meta.items() if k not in DERIVED_META})
        h.update(dialog_to_json(d).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()
