"""Where solid-bench reads and keeps things: every folder comes from here, read from the environment on each call.

* ``data_root()``: the human data (MSDialog-IntentPred, MANtIS, the SOLID authors' entity list):
  ``$SOLID_BENCH_DATA``, else ``~/.local/share/solid-bench/data``.
* ``home()``: caches and default runs: ``$SOLID_BENCH_HOME``, else ``~/.cache/solid-bench``. Below it,
  ``llm_cache_path()`` is the shared SQLite cache of LLM answers, ``models_root()`` holds assembled
  and converted local models, and ``runs_root()`` the default generation runs (``solid``, ``solid-rl``).

Read on each call, not at import, so a test (or a user) can point them elsewhere with the
environment variables alone.
"""

from __future__ import annotations

import os
from pathlib import Path


def _from_env(variable: str, default: Path) -> Path:
    value = os.environ.get(variable)
    return Path(value).expanduser() if value else default


def data_root() -> Path:
    """The human-data folder: $SOLID_BENCH_DATA, else ~/.local/share/solid-bench/data."""
    return _from_env("SOLID_BENCH_DATA", Path.home() / ".local" / "share" / "solid-bench" / "data")


def home() -> Path:
    """Where solid-bench keeps caches and default runs: $SOLID_BENCH_HOME, else ~/.cache/solid-bench."""
    return _from_env("SOLID_BENCH_HOME", Path.home() / ".cache" / "solid-bench")


def llm_cache_path() -> Path:
    """The shared SQLite cache of LLM answers (a run folder keeps its own cache beside its dialogs)."""
    return home() / "cache" / "llm.sqlite"


def models_root() -> Path:
    """Assembled GGUF files and transformers conversions of the named local models."""
    return home() / "models"


def runs_root() -> Path:
    """The default generation runs (``solid-default``, ``solid-rl-default``)."""
    return home() / "runs"
