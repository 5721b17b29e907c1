"""Result files: one JSON per (train, test, predictor, seed) cell, with schema version and provenance.

Layout of a Result JSON (``schema_version`` 2)::

    schema_version, solid_bench_version, config_hash, created
    cell:        {train, valid, test, predictor, params, seed}   valid: human | holdout | a corpus spec
    corpora:     {train|valid|test: Corpus.summary()}  (spec, sha256, counts, generation_cost, ...)
    predictor:   {name, params, model_id}
    decision:    {rule, thresholds{label: t}}
    metrics:     score() output (qu_accuracy, micro_p/r/f1, macro_f1, exact_match, per_label)
    ci:          {metric: [low, high]}  95% bootstrap over test dialogs
    generation_cost: {marginal, all_in} cost of the synthetic training dialogs (each with dialogs,
                 llm_calls, prompt_tokens, completion_tokens, seconds), or null
    timing:      {train_seconds, predict_seconds}
    predictions: {labels[...], dialog_ids[...], positions[...], y_true["FD_PA", ...], y_pred[...]}
    environment: {python, platform, packages{...}, device, git_commit}

Gold by reference. ``predictions.y_true`` (the test set's gold labels) may be left out, so that
Results on research-use test data such as MSDialog can be committed; ``predictions.gold`` then
says where the labels come from::

    predictions: {labels, dialog_ids, positions, y_pred,
                  gold: {source: "test corpus", spec: corpora.test.spec, split: "test",
                         sha256: corpora.test.sha256}}

Metrics, CIs and per-label scores stay in the file (they are aggregates). ``solid-bench
leaderboard`` rebuilds ``y_true`` from the test corpus after checking its sha256
(``solid_bench.gold.rehydrate_gold``); ``solid-bench run --no-store-gold``, ``store_gold =
false`` in a matrix config and ``solid-bench results strip-gold`` write this form. It stays
``schema_version`` 1: nothing else changes, and readers older than gold references fail on such
a file with a missing ``y_true`` rather than reading wrong numbers.

Schema 1 (read, not written) had ``valid: "auto"``, one flat all-in cost record and absolute
provenance paths; ``solid-bench results upgrade`` rewrites such files as schema 2
(``solid_bench.upgrade``).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Mapping

SCHEMA_VERSION = 2


def label_strings(y, codes) -> list[str]:
    """Rows of a 0/1 indicator matrix as Result label strings: the codes of the set columns joined by ``_`` ("FD_PA")."""
    return ["_".join(codes[j] for j in row.nonzero()[0]) for row in y]


def config_hash(config: Mapping[str, Any]) -> str:
    """Short stable hash of a cell's config (what identifies a cell across reruns)."""
    payload = json.dumps(config, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-." else "_" for ch in text)[:60]


def result_path(out_dir: Path, cell: Mapping[str, Any]) -> Path:
    """Where a cell's Result lives: readable prefix plus the config hash (unique per cell)."""
    name = f"{_slug(cell['train'])}__{_slug(cell['test'])}__{_slug(cell['predictor'])}__s{cell['seed']}__{config_hash(cell)}.json"
    return Path(out_dir) / name


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write JSON to a temp file in the same folder, fsync, then rename: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(obj, fh, indent=1, sort_keys=True, ensure_ascii=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_result(path: Path) -> dict[str, Any]:
    """Read a Result JSON; refuses files from a newer schema than this code understands."""
    with open(path, encoding="utf-8") as fh:
        obj = json.load(fh)
    version = obj.get("schema_version")
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        from .errors import UserError

        raise UserError(f"{path}: result schema_version {version!r} is not supported by this solid-bench (max {SCHEMA_VERSION}); upgrade solid-bench.")
    return obj


def load_results(folder: Path) -> list[dict[str, Any]]:
    """All Result JSONs under ``folder`` (recursively), sorted by path for reproducibility."""
    return [load_result(p) for p in sorted(Path(folder).rglob("*.json")) if not p.name.startswith(".")]


def environment() -> dict[str, Any]:
    """Python, platform, package versions, device and git commit, for provenance."""
    import platform
    import subprocess
    from importlib import metadata

    from . import __version__

    packages = {}
    for name in ("numpy", "scikit-learn", "torch", "transformers", "datasets", "accelerate", "trl", "peft"):
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    commit = None
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, cwd=Path(__file__).resolve().parent
        ).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        pass
    device = "cpu"
    try:
        import sys

        if "torch" in sys.modules:
            import torch

            if torch.cuda.is_available():
                device = f"cuda ({torch.cuda.get_device_name(0)})"
    except Exception:  # noqa: BLE001 - provenance must never break a run
        pass
    return {
        "solid_bench": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "packages": packages,
        "device": device,
        "git_commit": commit,
    }
