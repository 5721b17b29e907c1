"""``solid``: the default SOLID corpus, generated once with the default local LLM and then reused.

It lives in ``home()/runs/solid-default``. When that run folder is missing or incomplete, loading
the corpus generates (or resumes) it: ``DEFAULT_N`` dialogs with SmolLM2-135M-Instruct on the
transformers backend. DEFAULT_N is sized so that ``make demo`` (set-up, this generation, training
the default predictor and testing it) stays within about 20 minutes on a 2-core CPU: measured on
2026-11-26, 16 plans (seeds from the authors' list, batch 16) took 309 CPU-seconds with one torch
thread (19 CPU-s per plan; 10 of 16 accepted), so 48 plans take about 15 CPU-minutes, about 8-10
minutes of wall time on two idle cores, leaving the rest of the 20 minutes to set-up and training.
Environment overrides (tests): SOLID_BENCH_DEFAULT_SOLID_N, SOLID_BENCH_DEFAULT_BACKEND.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from ..corpora import SOURCES, Corpus, data_root, home
from ..errors import UserError
from ..schema import LabelSet

DEFAULT_N = 48
DEFAULT_BACKEND = "transformers"
DEFAULT_BATCH = 16
#: The SOLID authors' released entity list ("name<TAB>type" strings), used for seeding when present
#: in the data folder: a 135M model names entities poorly, so its own entity lists are mostly noise.
AUTHORS_SEEDS = "solid-self-seeds/entities_name_type.json"


def default_folder() -> Path:
    """Where the default SOLID run lives."""
    return home() / "runs" / "solid-default"


def default_n() -> int:
    """The size of the default corpus ($SOLID_BENCH_DEFAULT_SOLID_N overrides DEFAULT_N)."""
    raw = os.environ.get("SOLID_BENCH_DEFAULT_SOLID_N", "")
    try:
        return int(raw) if raw else DEFAULT_N
    except ValueError:
        raise UserError(f"SOLID_BENCH_DEFAULT_SOLID_N={raw!r} must be a whole number.") from None


@SOURCES.register("solid")
class SolidSource:
    """The default SOLID run, generated on first use and then read from its run folder."""

    description = f"SOLID synthetic dialogs: the default run (generated on first use, {DEFAULT_N} dialogs, SmolLM2-135M)"
    splits = ("train", "valid", "test")
    synthetic = True

    def load(self, split: str, labels: LabelSet) -> Corpus:
        """All dialogs of the default run (synthetic data has no splits), generating it if needed."""
        from ..formats import read_dialogs
        from ..generators.pipeline import GenerationConfig, run_generation

        folder = default_folder()
        authors = data_root() / AUTHORS_SEEDS
        config = GenerationConfig(out=str(folder), n=default_n(), backend=os.environ.get("SOLID_BENCH_DEFAULT_BACKEND") or DEFAULT_BACKEND,
                                  batch_size=DEFAULT_BATCH, seeds_file=str(authors) if authors.is_file() else None)
        manifest = _manifest(folder)
        if not _complete(manifest, config.n):
            with _locked(folder.with_name(folder.name + ".lock")):  # one generator at a time; others wait
                manifest = _manifest(folder)
                if not _complete(manifest, config.n):
                    print(f"[solid] the default SOLID corpus is missing or incomplete in {folder}; generating "
                          f"{config.n} dialogs with {config.backend} (once; later runs reuse it)", file=sys.stderr, flush=True)
                    manifest = run_generation(config, log=lambda m: print(f"[solid] {m}", file=sys.stderr, flush=True))
        if manifest.get("status") != "complete":
            raise UserError(f"The default SOLID run in {folder} stopped ({manifest.get('status')}); rerun to resume it.")
        dialogs = read_dialogs(folder, labels, source="solid", fmt="solid-bench-jsonl")
        raw = (folder / "manifest.json").read_bytes()
        return Corpus(
            spec="solid", split=split, dialogs=tuple(dialogs), labels=labels, synthetic=True, has_human=False,
            provenance={"run_folder": str(folder), "manifest_sha256": hashlib.sha256(raw).hexdigest(),
                        "model": manifest.get("model"), "cost": manifest.get("cost", {}).get("all"),
                        "counts": manifest.get("counts")},
        )


def _manifest(folder: Path) -> dict | None:
    import json

    path = folder / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _complete(manifest: dict | None, n: int) -> bool:
    return bool(manifest) and manifest.get("status") == "complete" and manifest.get("config", {}).get("n", 0) >= n


class _locked:
    """An exclusive advisory lock on ``path`` (POSIX flock), held for the with-block."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.path, "a")
        fcntl.flock(self.fh, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        import fcntl

        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()
