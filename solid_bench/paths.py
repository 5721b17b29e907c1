"""Portable paths for provenance: what a Result records must mean the same on another machine.

An absolute path is written relative to the first root that holds it: ``$SOLID_BENCH_DATA``
(human data), ``$SOLID_BENCH_HOME`` (caches, default runs, converted models), the git work tree
it lives in (``leaderboards/corpora/...``), or an installed package (``site-packages/<package>/...``).
A path under none of them keeps only its last component, never the machine's folders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _git_root(path: Path) -> Path | None:
    for folder in (path, *path.parents):
        if (folder / ".git").exists():
            return folder
    return None


def portable_path(text: str) -> str:
    """``text`` rewritten relative to a known root when it is an absolute path (see the module docstring)."""
    if not text.startswith("/") or "\n" in text:
        return text
    from .settings import data_root, home

    path = Path(text)
    for label, root in (("$SOLID_BENCH_DATA", data_root()), ("$SOLID_BENCH_HOME", home())):
        try:
            return f"{label}/{path.relative_to(root.expanduser().resolve()).as_posix()}"
        except ValueError:
            try:
                return f"{label}/{path.relative_to(root.expanduser()).as_posix()}"
            except ValueError:
                pass
    parts = path.parts
    if "site-packages" in parts:
        return "/".join(parts[parts.index("site-packages"):])
    repo = _git_root(path)
    if repo is not None and repo != path:
        return path.relative_to(repo).as_posix()
    return path.name


def portable(obj: Any) -> Any:
    """``obj`` with every absolute path string inside it made portable (dicts, lists and tuples walked)."""
    if isinstance(obj, str):
        return portable_path(obj)
    if isinstance(obj, dict):
        return {k: portable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(portable(v) for v in obj)
    return obj


def local_path(text: str, anchor: Path | None = None) -> Path:
    """A portable path read back on this machine: ``$SOLID_BENCH_DATA/...`` and ``$SOLID_BENCH_HOME/...``
    under those roots; a relative path from the working directory when it exists there, else from
    the git work tree holding ``anchor`` (a Result's folder: paths were made relative to the tree)."""
    from .settings import data_root, home

    for label, root in (("$SOLID_BENCH_DATA", data_root), ("$SOLID_BENCH_HOME", home)):
        if text.startswith(label + "/"):
            return root().expanduser() / text[len(label) + 1:]
    path = Path(text).expanduser()
    if path.is_absolute() or path.exists() or anchor is None:
        return path
    repo = _git_root(Path(anchor).resolve())
    return repo / path if repo is not None else path
