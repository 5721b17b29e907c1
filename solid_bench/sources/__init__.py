"""Named corpora (``msdialog``, ``mantis``, ``solid``, ...), one file each, registered in ``corpora.SOURCES``.

The contract is ``Source``; ``BaseSource`` gives the defaults of its optional parts, and
``check_source`` runs as each class registers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Protocol

from ..registry import contract_error, member_problems

if TYPE_CHECKING:
    from ..corpora import Corpus
    from ..schema import LabelSet


class Source(Protocol):
    """A corpus known by name.

    Required: ``description`` (one line for ``solid-bench data list``), ``synthetic`` (True for
    generated dialogs: they have no splits, so every split gives all of them, and they are never
    the default validation data) and ``load(split, labels) -> Corpus``, which raises a UserError
    saying how to get the data when it is missing.

    Optional (``BaseSource``): ``splits`` (default train, valid, test) and ``available() -> bool |
    None``: whether the files are here (None: made on first use, or nothing to tell).
    """

    description: ClassVar[str]
    synthetic: ClassVar[bool]
    splits: ClassVar[tuple[str, ...]]

    def load(self, split: str, labels: LabelSet) -> Corpus: ...

    def available(self) -> bool | None: ...


class BaseSource:
    """Defaults for the optional parts of ``Source``."""

    splits: ClassVar[tuple[str, ...]] = ("train", "valid", "test")

    def available(self) -> bool | None:
        """Nothing to tell (e.g. a corpus generated on first use)."""
        return None


def check_source(name: str, cls: type) -> None:
    """Registration check: a TypeError naming what ``cls`` lacks of the ``Source`` contract."""
    problems = member_problems(cls, ("description", "synthetic", "load"), ("splits", "available"), "solid_bench.sources.BaseSource")
    if problems:
        raise contract_error("Source", name, cls, problems)
