"""Readers of dialog file formats, one file each. A reader registers itself with ``FORMATS``.

A format plugin is a class with ``description``, ``sniff(path) -> bool`` (cheap: extension
and first bytes) and ``read(path, labels, source) -> list[Dialog]``, which raises UserError
naming file:line for malformed input and unknown labels.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from ..registry import Registry

FORMATS: Registry = Registry("file format", package="solid_bench.formats")


def detect_format(path: Path) -> str:
    """Name of the registered format that recognises ``path``; UserError if none does."""
    for name, fmt in FORMATS.items():
        if fmt.sniff(path):
            return name
    raise UserError(
        f"{path}: cannot tell its format; expected one of {', '.join(FORMATS.names())} "
        "(see README, 'Data formats')."
    )


def _is_blank(path: Path) -> bool:
    """True for a file that is empty or holds only whitespace."""
    with open(path, "rb") as fh:
        while block := fh.read(1 << 16):
            if block.strip():
                return False
    return True


def read_dialogs(path: Path, labels, source: str, fmt: str | None = None):
    """Read ``path`` with format ``fmt`` (detected when None); empty files are an error."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file; check the path or run `solid-bench data list`.")
    if path.is_file() and _is_blank(path):
        raise UserError(f"{path}: the file is empty; it must hold at least one dialog.")
    name = fmt or detect_format(path)
    dialogs = FORMATS.get(name).read(path, labels, source)
    if not dialogs:
        raise UserError(f"{path}: the file holds no dialogs.")
    return dialogs
