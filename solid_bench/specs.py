"""Corpus specs parsed once, into a typed ``Spec``: ``human+solid@500:balanced`` -> two ``Part``s.

The grammar is documented in ``solid_bench.corpora``. ``parse_spec`` checks the syntax and
cheap limits without reading any file (an empty part, a bad size, an overlong spec or part, a
part named twice), so a bad spec fails in microseconds. ``Spec.problems`` then checks what each
part names (a registered corpus or an existing path, relative to the working directory) and its
sampling strategy, still before any dialog is loaded. ``corpora.resolve``, the matrix
validation, ``data stats``, ``run`` and the runner all read specs through this module, so a spec
means the same thing wherever it is written.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError, did_you_mean

#: Longer than PATH_MAX (4096 on Linux) cannot be a spec of paths: it is a mistake.
MAX_SPEC_CHARS = 4096
#: The longest file or folder name (one path component) most file systems allow, in bytes.
MAX_NAME_BYTES = 255
DEFAULT_STRATEGY = "random"
FILE_SUFFIXES = (".jsonl", ".json", ".tsv")
_SIZE = re.compile(r"[0-9]+")


def short(text: str, n: int = 60) -> str:
    """``text`` cut to ``n`` characters for a message, keeping its start and its end (a path's file name)."""
    return text if len(text) <= n else text[: n // 3] + "…" + text[len(text) - (n - n // 3 - 1):]


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # a name too long for the file system, a folder we may not look into
        return False


@dataclass(frozen=True)
class Part:
    """One part of a mixture: a corpus name or a path, with an optional sample size and strategy."""

    name: str
    size: int | None = None
    strategy: str = DEFAULT_STRATEGY

    @property
    def source(self) -> str:
        """The name with aliases resolved (``human`` -> ``msdialog``)."""
        from .corpora import ALIASES

        return ALIASES.get(self.name, self.name)

    def path(self) -> Path:
        """The part read as a path (``~`` expanded; a relative path is relative to the working directory)."""
        return Path(self.source).expanduser()

    def is_named(self) -> bool:
        """True for a registered corpus; a file or folder of the same name in the working folder wins."""
        from .corpora import SOURCES

        return self.source in SOURCES and not _exists(self.path())

    def looks_like_path(self) -> bool:
        """True when the part is written as a path (a separator or a dialog-file suffix) or one exists."""
        return os.sep in self.source or self.source.endswith(FILE_SUFFIXES) or _exists(self.path())

    def is_human_source(self) -> bool:
        """True for a registered corpus of human dialogs (one with train/valid/test splits)."""
        from .corpora import SOURCES

        return self.is_named() and not SOURCES.get(self.source).synthetic

    def problem(self) -> str | None:
        """What is wrong with this part (an unknown corpus, a missing path, an unknown strategy), or None."""
        from .corpora import ALIASES, SOURCES

        if not self.is_named():
            if not _exists(self.path()):
                if self.looks_like_path():
                    return f"corpus {short(self.name)!r}: no such file or folder; check the path."
                names = sorted([*SOURCES.names(), *ALIASES])
                return f"unknown corpus {short(self.name)!r}.{did_you_mean(self.source, names)} " \
                       f"Known: {', '.join(names)}, or a dialog file or run folder."
        if self.size is not None:
            from .sampling import STRATEGIES

            if self.strategy not in STRATEGIES:
                known = STRATEGIES.names()
                return f"unknown sampling strategy {self.strategy!r}.{did_you_mean(self.strategy, known)} Known: {', '.join(known)}."
        return None


@dataclass(frozen=True)
class Spec:
    """A parsed corpus spec: the text as given and its parts, in order."""

    text: str
    parts: tuple[Part, ...]

    def problems(self) -> list[str]:
        """One sentence per part that names no corpus or an unknown strategy."""
        prefix = "" if len(self.parts) == 1 else f"corpus spec {short(self.text)!r}: "
        return [prefix + msg for p in self.parts if (msg := p.problem())]

    def check(self) -> "Spec":
        """This spec, or a UserError for its first problem (nothing is loaded either way)."""
        problems = self.problems()
        if problems:
            raise UserError(problems[0][0].upper() + problems[0][1:])
        return self


def _part(raw: str, text: str) -> Part:
    name, at, sample = raw.partition("@")
    name = name.strip()
    where = f"Corpus spec {short(text)!r}"
    if not name:
        if not raw.strip():
            raise UserError(f"{where} has an empty part (a '+' with nothing beside it); name a corpus on each side of every '+'.")
        raise UserError(f"{where}: {raw.strip()!r} names no corpus before '@'; write e.g. solid@500.")
    longest = max(len(c.encode("utf-8")) for c in name.split("/"))
    if longest > MAX_NAME_BYTES:
        raise UserError(f"{where}: the part {short(name)!r} is too long to be a corpus name or a file name "
                        f"({longest} bytes; at most {MAX_NAME_BYTES} per name).")
    if not at:
        return Part(name)
    size, colon, strategy = sample.partition(":")
    size, strategy = size.strip(), strategy.strip()
    if not _SIZE.fullmatch(size) or int(size) <= 0:
        raise UserError(f"{where}: the size after '@' in {raw.strip()!r} must be a positive whole number, e.g. solid@500.")
    if colon and not strategy:
        raise UserError(f"{where}: {raw.strip()!r} names no sampling strategy after ':'; write e.g. solid@500:balanced, or drop the ':'.")
    return Part(name, int(size), strategy or DEFAULT_STRATEGY)


def parse_spec(text: str) -> Spec:
    """Parse ``text`` (see the grammar in ``solid_bench.corpora``); syntax errors are UserErrors. Reads no file."""
    if not isinstance(text, str) or not text.strip():
        raise UserError("Empty corpus spec; name a corpus such as 'human' or 'solid', or a dialog file.")
    if len(text) > MAX_SPEC_CHARS:
        raise UserError(f"Corpus spec {short(text)!r} is {len(text):,} characters long, more than the {MAX_SPEC_CHARS:,} "
                        "a spec may have; name fewer or shorter parts.")
    parts = tuple(_part(raw, text) for raw in text.split("+"))
    seen: dict[str, Part] = {}
    for p in parts:
        if p.source in seen:
            raise UserError(f"Corpus spec {short(text)!r} names {short(p.name)!r} twice; a mixture names each corpus once.")
        seen[p.source] = p
    return Spec(text, parts)
