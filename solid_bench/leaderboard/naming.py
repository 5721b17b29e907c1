"""A row's training data by name, the generator axis of the leaderboard.

Each part of a train spec is named by what it is, with its size: ``human · 500 dialogs``,
``SOLID · Qwen2.5-Coder-1.5B · 1,000 dialogs``, and a mixture joins its parts with ' + '. A
generated part's name comes from ``generator_names.corpus_name`` (recorded in the Result when its
corpus was loaded, else read from its run folder's manifest, else the method or folder name); the
human sources show as ``human`` (MSDialog) or their own name. When two different corpora in one
table would show the same name, each gets its folder name in brackets, so a name means one corpus.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..generator_names import SEP, corpus_name
from ..specs import DEFAULT_STRATEGY, parse_spec
from .cost import HUMAN_SOURCES

HUMAN_NAMES = {"human": "human", "msdialog": "human", "mantis": "MANtIS"}


@dataclass(frozen=True)
class TrainPart:
    """One part of a row's training data: the corpus (its spec without a size), display name, dialogs used."""

    corpus: str
    name: str
    n_dialogs: int | None
    synthetic: bool
    size: int | None  # the spec's '@N', None for the whole corpus
    strategy: str

    def label(self) -> str:
        """'SOLID · Qwen2.5-Coder-1.5B · 500 dialogs' (the name alone when the size is unknown)."""
        return self.name if self.n_dialogs is None else f"{self.name}{SEP}{self.n_dialogs:,} dialogs"


def train_parts(result: Mapping[str, Any], anchor: Path | None = None) -> tuple[TrainPart, ...]:
    """The parts of a Result's training data, named (see the module docstring), in spec order."""
    spec = parse_spec(result["cell"]["train"])
    summary = (result.get("corpora") or {}).get("train") or {}
    summaries = (summary.get("provenance") or {}).get("parts") or ([summary] if summary else [])
    if len(summaries) != len(spec.parts):
        summaries = [{}] * len(spec.parts)  # no usable summary: the spec alone
    out = []
    for part, s in zip(spec.parts, summaries):
        synthetic = bool(s["synthetic"]) if "synthetic" in s else part.name not in HUMAN_SOURCES
        name = (corpus_name(s.get("provenance") or {}, s.get("spec") or part.name, anchor) if synthetic
                else HUMAN_NAMES.get(part.name, part.name))
        n = s.get("n_dialogs", part.size)
        out.append(TrainPart(part.name, name, None if n is None else int(n), synthetic, part.size, part.strategy))
    return tuple(out)


def distinct_names(parts: Sequence[Sequence[TrainPart]]) -> list[tuple[TrainPart, ...]]:
    """The same parts, with a corpus's folder name added where two corpora share a display name."""
    corpora: dict[str, set[str]] = {}
    for row in parts:
        for p in row:
            if p.synthetic:
                corpora.setdefault(p.name, set()).add(p.corpus)
    shared = {name for name, c in corpora.items() if len(c) > 1}
    return [tuple(replace(p, name=f"{p.name} ({Path(p.corpus).name})") if p.synthetic and p.name in shared else p for p in row)
            for row in parts]


def naming_columns(parts: Sequence[TrainPart]) -> dict[str, Any]:
    """The row's ``training_data`` label, ``generator`` (its generated parts' names, '' for human data only) and
    ``n_human_dialogs``."""
    human = [p for p in parts if not p.synthetic]
    n_human = sum(p.n_dialogs for p in human) if all(p.n_dialogs is not None for p in human) else None
    return {
        "training_data": " + ".join(p.label() for p in parts),
        "generator": " + ".join(p.name for p in parts if p.synthetic),
        "n_human_dialogs": n_human,
    }


def human_curve_point(train: str) -> bool:
    """True for a point of the human learning curve: MSDialog train alone, whole (``human``) or randomly sampled (``human@N``)."""
    parts = parse_spec(train).parts
    return len(parts) == 1 and HUMAN_NAMES.get(parts[0].name) == "human" and (parts[0].size is None or parts[0].strategy == DEFAULT_STRATEGY)
