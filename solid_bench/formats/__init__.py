"""Readers of dialog file formats, one file each. A reader registers itself with ``FORMATS``.

A format plugin is a class with ``description``, ``sniff(path) -> bool`` (cheap: extension
and first bytes) and ``read(path, labels, source) -> list[Dialog]``, which raises UserError
naming file:line for malformed input and unknown labels.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from ..inputs import check_utf8, is_blank
from ..registry import Registry, contract_error, member_problems


def check_format(name: str, cls: type) -> None:
    """Registration check: a format plugin has ``description``, ``sniff`` and ``read``."""
    problems = member_problems(cls, ("description", "sniff", "read"))
    if problems:
        raise contract_error("Format", name, cls, problems)


FORMATS: Registry = Registry("file format", package="solid_bench.formats", check=check_format)


def detect_format(path: Path) -> str:
    """Name of the registered format that recognises ``path``; UserError if none does (or the file is empty)."""
    if path.is_file() and is_blank(path):
        raise UserError(f"{path}: the file is empty; it must hold at least one dialog.")
    for name, fmt in FORMATS.items():
        if fmt.sniff(path):
            return name
    if path.is_file():
        check_utf8(path)  # a BOM or undecodable bytes explain a failed sniff better than "unknown format"
    raise UserError(
        f"{path}: cannot tell its format; expected one of {', '.join(FORMATS.names())} "
        "(see docs/formats.md)."
    )


def read_dialogs(path: Path, labels, source: str, fmt: str | None = None):
    """Read ``path`` with format ``fmt`` (detected when None); an empty file, no dialogs or a repeated dialog id is an error."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file; check the path or run `solid-bench data list`.")
    if not path.is_dir() and is_blank(path):
        raise UserError(f"{path}: the file is empty; it must hold at least one dialog.")
    name = fmt or detect_format(path)
    dialogs = FORMATS.get(name).read(path, labels, source)
    if not dialogs:
        raise UserError(f"{path}: the file holds no dialogs.")
    _check_unique_ids(path, dialogs)
    return dialogs


def _check_unique_ids(path: Path, dialogs) -> None:
    """Dialog ids key predictions, splits and results, so one file may use each only once."""
    seen: set[str] = set()
    for d in dialogs:
        if d.id in seen:
            raise UserError(f"{path}: dialog id {d.id!r} occurs more than once; give every dialog its own id.")
        seen.add(d.id)
