"""Corpus specs -> dialogs: named sources, file paths, mixtures (``a+b``) and samples (``a@N:how``).

Grammar (parsed by ``solid_bench.specs.parse_spec``, the one parser)::

    SPEC     := PART ('+' PART)*
    PART     := NAME_OR_PATH ['@' N [':' STRATEGY]]

``NAME_OR_PATH`` is a registered source (``human``, ``msdialog``, ``mantis``, ``solid``,
``solid-rl``; see ``solid-bench data list``), a dialog file, or a run folder; a file or folder
of a source's name in the working folder wins over the source. ``N`` is a positive whole
number of dialogs to sample; ``STRATEGY`` is ``random`` (the default), ``balanced`` or
``lmq-high``. Every part names something (``human+`` is an error, not "the current folder"),
no corpus is named twice, and a spec has at most 4,096 characters. Named human sources have
train/valid/test splits; files and synthetic runs have none, so every split gives all their
dialogs (a source says which it is with ``synthetic``; see ``sources.Source``).

Paths: a relative path in a spec is relative to the working directory, wherever the spec is
written: on the command line, in a matrix config and in a Result's cell key, so a spec means one
thing everywhere and a Result's spec can be rerun as it stands. (A matrix config's own ``out``
folder is the one path read relative to the config file.) The reference matrix is therefore run
from the repository root: ``solid-bench matrix leaderboards/configs/msdialog.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping

from .errors import UserError
from .registry import Registry
from .schema import MSDIALOG, Dialog, LabelSet, dialogs_sha256
from .sources import check_source
from .specs import Part, parse_spec

SPLITS = ("train", "valid", "test")
ALIASES = {"human": "msdialog"}

#: Named corpora, one file each in solid_bench/sources/ (the contract: ``sources.Source``).
SOURCES: Registry = Registry("corpus", package="solid_bench.sources", entry_point_group="solid_bench.corpora",
                             check=check_source)


@dataclass(frozen=True)
class Corpus:
    """Resolved dialogs with their label set and provenance (what goes into every result)."""

    spec: str
    split: str
    dialogs: tuple[Dialog, ...]
    labels: LabelSet = MSDIALOG
    synthetic: bool = False
    has_human: bool = True
    provenance: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @cached_property
    def sha256(self) -> str:
        return dialogs_sha256(self.dialogs)

    @property
    def n_dialogs(self) -> int:
        return len(self.dialogs)

    @cached_property
    def n_utterances(self) -> int:
        return sum(len(d.utterances) for d in self.dialogs)

    def label_counts(self) -> dict[str, int]:
        """Utterances carrying each label (multi-label counts)."""
        counts = {c: 0 for c in self.labels}
        for d in self.dialogs:
            for u in d.utterances:
                for c in u.intents:
                    counts[c] += 1
        return counts

    def generation_cost(self) -> dict[str, dict[str, float]] | None:
        """Generation cost of the synthetic dialogs in this corpus, two figures; None if it has none.

        ``marginal``: the dialogs' own generation calls (``meta.cost`` less ``meta.cost_retries``,
        the calls of rejected tries, where the generator recorded them). ``all_in``: each dialog's
        share of its whole run (``meta.cost_all_in``: seeding, instruction merging, retries,
        rejected plans and a trained generator's making, spread over the accepted dialogs), for
        the dialogs whose run folder gave one. Each record counts its ``dialogs``.
        """
        marginal: dict[str, float] = {}
        all_in: dict[str, float] = {}
        n_marginal = n_all_in = 0

        def add(totals: dict[str, float], cost: Mapping[str, Any], sign: int = 1) -> None:
            for k, v in cost.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    totals[k] = totals.get(k, 0) + sign * v

        for d in self.dialogs:
            meta = d.meta or {}
            if meta.get("cost"):
                n_marginal += 1
                add(marginal, meta["cost"])
                add(marginal, meta.get("cost_retries") or {}, -1)
            if meta.get("cost_all_in"):
                n_all_in += 1
                add(all_in, meta["cost_all_in"])
        if not n_marginal and not n_all_in:
            return None
        return {"marginal": marginal | {"dialogs": n_marginal} if n_marginal else None,
                "all_in": all_in | {"dialogs": n_all_in} if n_all_in else None}

    def summary(self) -> dict[str, Any]:
        """The record of this corpus that a Result carries."""
        return {
            "spec": self.spec,
            "split": self.split,
            "sha256": self.sha256,
            "n_dialogs": self.n_dialogs,
            "n_utterances": self.n_utterances,
            "synthetic": self.synthetic,
            "has_human": self.has_human,
            "generation_cost": self.generation_cost(),
            "provenance": dict(self.provenance),
        }


def _load_part(part: Part, split: str, labels: LabelSet) -> Corpus:
    if part.is_named():
        return SOURCES.get(part.source)().load(split, labels)
    from .formats import detect_format, read_dialogs

    path = part.path()
    fmt = detect_format(path)
    dialogs = read_dialogs(path, labels, source=path.stem if path.is_file() else path.name, fmt=fmt)
    synthetic = any(d.meta.get("generator") for d in dialogs)
    provenance = {"path": str(path.resolve()), "format": fmt}
    if synthetic and path.is_dir():
        from .generator_names import run_folder_name

        name = run_folder_name(path)  # recorded here so every Result names what made its dialogs
        if name:
            provenance["generator"] = name
    return Corpus(
        spec=part.source,
        split=split,
        dialogs=tuple(dialogs),
        labels=labels,
        synthetic=synthetic,
        has_human=not synthetic,
        provenance=provenance,
    )


def resolve(spec: str, split: str = "train", labels: LabelSet = MSDIALOG, sample_seed: int = 0) -> Corpus:
    """Resolve a corpus spec for one split. Sampling is seeded by ``sample_seed`` (default fixed)."""
    if split not in SPLITS:
        raise UserError(f"Unknown split {split!r}; use one of {', '.join(SPLITS)}.")
    parsed = parse_spec(spec).check()  # every part is checked before any is loaded
    parts = []
    for part in parsed.parts:
        corpus = _load_part(part, split, labels)
        if part.size is not None:
            from .sampling import sample

            corpus = sample(corpus, part.size, part.strategy, seed=sample_seed)
        parts.append(corpus)
    if len(parts) == 1:
        c = parts[0]
        return Corpus(spec, split, c.dialogs, labels, c.synthetic, c.has_human, c.provenance)
    dialogs = tuple(d for c in parts for d in c.dialogs)
    ids = [d.id for d in dialogs]
    if len(set(ids)) != len(ids):
        raise UserError(f"Corpus spec {spec!r}: the mixture repeats dialogs (two parts hold the same dialogs?).")
    return Corpus(
        spec=spec,
        split=split,
        dialogs=dialogs,
        labels=labels,
        synthetic=any(c.synthetic for c in parts),
        has_human=any(c.has_human for c in parts),
        provenance={"parts": [c.summary() | {"spec": c.spec} for c in parts]},
    )
