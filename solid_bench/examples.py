"""Utterance-level examples for predictors: text with its dialog context, role and position."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

import numpy as np

from .schema import Dialog, LabelSet


@dataclass(frozen=True)
class Example:
    """One utterance to classify, with the context every predictor may use."""

    dialog_id: str
    position: int  # 0-based turn index
    n_turns: int
    role: str  # "user" | "agent"
    text: str
    prev_text: str  # "" for the first utterance
    first_text: str  # the dialog's opening utterance (the information need)
    intents: tuple[str, ...]  # gold labels (may be empty at prediction time)
    next_text: str = ""  # the following utterance; "" for the last one (dialogs are classified whole, offline)

    @property
    def relative_position(self) -> float:
        return self.position / max(1, self.n_turns - 1)

    @property
    def is_first(self) -> bool:
        return self.position == 0

    @property
    def is_last(self) -> bool:
        return self.position == self.n_turns - 1


class Examples(Sequence[Example]):
    """An immutable sequence of examples with helpers for label matrices and grouping."""

    def __init__(self, items: Iterable[Example]):
        self._items: tuple[Example, ...] = tuple(items)

    @classmethod
    def from_dialogs(cls, dialogs: Iterable[Dialog]) -> "Examples":
        out = []
        for d in dialogs:
            n = len(d.utterances)
            first = d.utterances[0].text if n else ""
            for i, u in enumerate(d.utterances):
                prev = d.utterances[i - 1].text if i else ""
                nxt = d.utterances[i + 1].text if i + 1 < n else ""
                out.append(Example(d.id, i, n, u.role, u.text, prev, first, u.intents, nxt))
        return cls(out)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return Examples(self._items[i])
        return self._items[i]

    def __iter__(self) -> Iterator[Example]:
        return iter(self._items)

    def subset(self, indices: Iterable[int]) -> "Examples":
        return Examples(self._items[i] for i in indices)

    @property
    def texts(self) -> list[str]:
        return [e.text for e in self._items]

    @property
    def dialog_ids(self) -> list[str]:
        return [e.dialog_id for e in self._items]

    def y(self, labels: LabelSet) -> np.ndarray:
        """Binary indicator matrix (n_examples, n_labels) of the gold intents."""
        y = np.zeros((len(self._items), len(labels)), dtype=np.int8)
        index = {c: j for j, c in enumerate(labels.codes)}
        for i, e in enumerate(self._items):
            for c in e.intents:
                y[i, index[c]] = 1
        return y

    def dialog_groups(self) -> np.ndarray:
        """Integer dialog index per example (for dialog-level bootstrap)."""
        ids: dict[str, int] = {}
        return np.array([ids.setdefault(e.dialog_id, len(ids)) for e in self._items], dtype=np.int64)
