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
from pathlib import Path
from typing import Any, Callable, Mapping

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


def write_result(path: Path, result: Mapping[str, Any]) -> Path:
    """Write a Result atomically (sorted keys, one-space indent: stable diffs of committed Results)."""
    from .outputs import write_json_atomic

    return write_json_atomic(path, result, indent=1, sort_keys=True)


#: The metrics every Result carries and the leaderboard aggregates.
RESULT_METRICS = ("qu_accuracy", "micro_p", "micro_r", "micro_f1", "macro_f1", "exact_match")
ON_BAD_RESULT = ("stop", "skip")


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _label_strings_problem(values: Any, key: str, n: int, labels: set[str]) -> str | None:
    if not isinstance(values, list) or len(values) != n or not all(isinstance(v, str) for v in values):
        return f"predictions.{key} must be a list of {n} label strings, one per test utterance"
    unknown = {c for v in values for c in v.split("_") if c and c not in labels}
    if unknown:
        return f"predictions.{key} uses labels {', '.join(sorted(unknown))} that predictions.labels does not list"
    return None


def _predictions_problem(pred: Any) -> str | None:
    if not isinstance(pred, dict):
        return "has no per-utterance 'predictions'"
    labels = pred.get("labels")
    if not isinstance(labels, list) or not labels or not all(isinstance(c, str) for c in labels):
        return "predictions.labels must be a non-empty list of label codes"
    ids, positions = pred.get("dialog_ids"), pred.get("positions")
    if not isinstance(ids, list) or not all(isinstance(d, str) for d in ids):
        return "predictions.dialog_ids must be a list of dialog ids"
    if not isinstance(positions, list) or len(positions) != len(ids) or not all(_is_int(p) for p in positions):
        return "predictions.positions must be a list of whole numbers as long as predictions.dialog_ids"
    codes = set(labels)
    problem = _label_strings_problem(pred.get("y_pred"), "y_pred", len(ids), codes)
    if problem is None and "y_true" in pred:
        problem = _label_strings_problem(pred["y_true"], "y_true", len(ids), codes)
    elif problem is None and not isinstance(pred.get("gold"), dict):
        problem = "has neither predictions.y_true nor a gold reference (predictions.gold)"
    return problem


def result_problem(obj: Any) -> str | None:
    """Why ``obj`` is not a Result this solid-bench can read and aggregate, or None when it is one."""
    if not isinstance(obj, dict):
        return f"holds a JSON {type(obj).__name__}, not a Result object"
    version = obj.get("schema_version")
    if not _is_int(version):
        return "has no schema_version, so it is not a solid-bench Result"
    if version > SCHEMA_VERSION:
        return f"has schema_version {version}, newer than this solid-bench reads (at most {SCHEMA_VERSION}); upgrade solid-bench"
    cell = obj.get("cell")
    if not isinstance(cell, dict):
        return "has no 'cell' (the train, test, predictor and seed it was run for)"
    for key in ("train", "test", "predictor"):
        if not isinstance(cell.get(key), str):
            return f"cell.{key} is missing or not a string"
    if not _is_int(cell.get("seed")):
        return "cell.seed is missing or not a whole number"
    if not isinstance(cell.get("params") or {}, dict):
        return "cell.params is not a table of parameters"
    metrics = obj.get("metrics")
    if not isinstance(metrics, dict):
        return "has no 'metrics'"
    for m in RESULT_METRICS:
        if not _is_number(metrics.get(m)):
            return f"metrics.{m} is missing or not a number"
    if not isinstance(metrics.get("per_label") or {}, dict) or not all(isinstance(v, dict) for v in (metrics.get("per_label") or {}).values()):
        return "metrics.per_label is not a table of per-label scores"
    return _predictions_problem(obj.get("predictions"))


def load_result(path: Path) -> dict[str, Any]:
    """Read and validate one Result JSON; a damaged or foreign file is a UserError naming it and what is wrong."""
    from .errors import UserError
    from .inputs import load_json

    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path} is a folder, not a Result file.")
    obj = load_json(path)
    problem = result_problem(obj)
    if problem:
        raise UserError(f"{path}: {problem}.")
    return obj


def result_files(folder: Path) -> list[Path]:
    """Every ``*.json`` under ``folder`` (recursively, hidden names left out), sorted for reproducibility."""
    return [p for p in sorted(Path(folder).rglob("*.json")) if not p.name.startswith(".")]


def load_results(folder: Path, on_bad: str = "stop", warn: Callable[[str], None] = lambda s: None) -> list[dict[str, Any]]:
    """All Results under ``folder``. A bad file stops the load (``on_bad="stop"``) or is left out with a warning (``"skip"``)."""
    from .errors import UserError

    if on_bad not in ON_BAD_RESULT:
        raise UserError(f"--on-bad-result {on_bad!r}: use one of {', '.join(ON_BAD_RESULT)}.")
    results = []
    for path in result_files(folder):
        try:
            results.append(load_result(path))
        except UserError as e:
            reason = str(e).rstrip(".")
            if on_bad == "stop":
                raise UserError(f"{reason}; stopped before writing anything: fix or delete that file, or pass "
                                "--on-bad-result skip to leave bad Result files out.") from None
            warn(f"warning: skipped {reason}; it is left out.")
    return results


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
