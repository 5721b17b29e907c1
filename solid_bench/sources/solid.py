"""``solid``: the default SOLID corpus, generated once with the default local LLM and then reused.

It lives in ``settings.runs_root()/solid-default``. When that run folder is missing or incomplete,
loading the corpus generates (or resumes) it: ``DEFAULT_N`` dialogs with SmolLM2-135M-Instruct on
the transformers backend, seeded from the SOLID authors' entity list when it is in the data folder.
Before it starts, one stderr line says so, with the plan's estimated LLM calls and tokens and a
rough duration (``CPU_SECONDS_PER_PLAN``); while it runs, a progress line follows each tenth of
the plans. DEFAULT_N keeps ``make demo`` (set-up, this generation, training and testing the
default predictor) to about 20 minutes on a 2-core CPU.
Environment overrides (tests): SOLID_BENCH_DEFAULT_SOLID_N, SOLID_BENCH_DEFAULT_BACKEND.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from ..corpora import SOURCES, Corpus
from ..errors import UserError
from ..schema import LabelSet
from ..settings import data_root, runs_root
from . import BaseSource

DEFAULT_N = 48
DEFAULT_BACKEND = "transformers"
DEFAULT_BATCH = 16
#: CPU time one plan takes with the defaults (SmolLM2-135M, transformers, batch 16, one torch
#: thread, retries included): the basis of the duration announced before generating.
CPU_SECONDS_PER_PLAN = 19
#: The SOLID authors' released entity list ("name<TAB>type" strings), used for seeding when present
#: in the data folder: a 135M model names entities poorly, so its own entity lists are mostly noise.
AUTHORS_SEEDS = "solid-self-seeds/entities_name_type.json"


def default_folder() -> Path:
    """Where the default SOLID run lives."""
    return runs_root() / "solid-default"


def default_n() -> int:
    """The size of the default corpus ($SOLID_BENCH_DEFAULT_SOLID_N overrides DEFAULT_N)."""
    raw = os.environ.get("SOLID_BENCH_DEFAULT_SOLID_N", "")
    try:
        return int(raw) if raw else DEFAULT_N
    except ValueError:
        raise UserError(f"SOLID_BENCH_DEFAULT_SOLID_N={raw!r} must be a whole number.") from None


@SOURCES.register("solid")
class SolidSource(BaseSource):
    """The default SOLID run, generated on first use and then read from its run folder."""

    description = f"SOLID synthetic dialogs: the default run (generated on first use, {DEFAULT_N} dialogs, SmolLM2-135M)"
    synthetic = True

    def available(self) -> bool | None:
        """True once the default run is complete; None before (it is made on first use)."""
        return True if _complete(_manifest(default_folder()), default_n()) else None

    def load(self, split: str, labels: LabelSet) -> Corpus:
        """All dialogs of the default run (synthetic data has no splits), generating it if needed."""
        from ..formats import read_dialogs
        from ..generator_names import generator_name
        from ..generators.pipeline import GenerationConfig

        folder = default_folder()
        authors = data_root() / AUTHORS_SEEDS
        config = GenerationConfig(out=str(folder), n=default_n(), backend=os.environ.get("SOLID_BENCH_DEFAULT_BACKEND") or DEFAULT_BACKEND,
                                  batch_size=DEFAULT_BATCH, seeds_file=str(authors) if authors.is_file() else None)
        manifest = _manifest(folder)
        if not _complete(manifest, config.n):
            with _locked(folder.with_name(folder.name + ".lock")):  # one generator at a time; others wait
                manifest = _manifest(folder)
                if not _complete(manifest, config.n):
                    manifest = _generate(config, folder)
        if manifest.get("status") != "complete":
            raise UserError(f"The default SOLID run in {folder} stopped ({manifest.get('status')}); rerun to resume it.")
        dialogs = read_dialogs(folder, labels, source="solid", fmt="solid-bench-jsonl")
        raw = (folder / "manifest.json").read_bytes()
        return Corpus(
            spec="solid", split=split, dialogs=tuple(dialogs), labels=labels, synthetic=True, has_human=False,
            provenance={"run_folder": str(folder), "manifest_sha256": hashlib.sha256(raw).hexdigest(),
                        "model": manifest.get("model"), "generator": generator_name(manifest),
                        "cost": manifest.get("cost", {}).get("all"),
                        "counts": manifest.get("counts")},
        )


def _say(message: str) -> None:
    print(f"[solid] {message}", file=sys.stderr, flush=True)


def _generate(config, folder: Path) -> dict:
    """Generate (or resume) the default run, announcing it with its estimate first and reporting progress."""
    import time

    from ..corpora import resolve
    from ..generators.pipeline import estimate, run_generation

    train = resolve("human", "train")
    total = estimate(config, train)["total"]
    minutes = max(1, round(config.n * CPU_SECONDS_PER_PLAN / 60))
    _say(f"the default SOLID corpus is missing or incomplete in {folder}; generating {config.n} dialogs with "
         f"{config.backend} (once; later runs reuse it): about {total['llm_calls']:,} LLM calls and "
         f"{total['prompt_tokens'] + total['completion_tokens']:,} tokens, roughly {minutes} CPU-minutes with the "
         f"default model")
    start, shown = time.monotonic(), [None]

    def progress(done: int, n: int) -> None:  # one line per tenth of the plans, and at the end
        if shown[0] is None:  # the first call reports what a resumed run had already done
            shown[0] = done
            return
        step = max(1, n // 10)
        if done > shown[0] and (done // step > shown[0] // step or done == n):
            _say(f"{done}/{n} dialog plans done ({time.monotonic() - start:.0f} s)")
            shown[0] = done

    return run_generation(config, train=train, progress=progress, log=_say)


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
