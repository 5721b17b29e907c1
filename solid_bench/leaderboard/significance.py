"""Paired significance of each system against its human-only baseline, Holm-corrected over the table.

The test dialog is the unit. Seeds are grouped into runs first: seeds whose predictions are
identical are one run, not replicates (a deterministic predictor's three seeds are one model).
Runs of the system and the baseline are paired by seed, and one swap exchanges the system's and
the baseline's predictions on a test dialog in every paired run at once. The statistic is the
difference of the mean-over-runs micro-F1.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import UserError

TEST_METRIC = "micro_f1"


def predictions(result: Mapping[str, Any]) -> tuple[list[tuple[str, int]], np.ndarray, np.ndarray]:
    """(dialog_id, position) keys and gold / predicted indicator matrices of one Result."""
    pred = result.get("predictions") or {}
    labels = list(pred.get("labels") or [])
    if not labels or "y_pred" not in pred:
        raise UserError(f"Result {result.get('config_hash', '?')} has no per-utterance predictions; rerun the cell with this solid-bench.")
    index = {c: j for j, c in enumerate(labels)}

    def matrix(strings: Sequence[str]) -> np.ndarray:
        y = np.zeros((len(strings), len(labels)), dtype=bool)
        for i, s in enumerate(strings):
            for code in filter(None, s.split("_")):
                y[i, index[code]] = True
        return y

    keys = list(zip(pred["dialog_ids"], (int(p) for p in pred["positions"])))
    return keys, matrix(pred["y_true"]), matrix(pred["y_pred"])


def distinct_runs(by_seed: Mapping[int, Mapping[str, Any]]) -> list[list[int]]:
    """Seeds grouped by identical test predictions (same utterances, same predicted labels), in seed order.

    Each group is one run: its seeds are copies of one model, not replicates."""
    groups: dict[tuple, list[int]] = {}
    for s in sorted(by_seed):
        pred = by_seed[s].get("predictions") or {}
        key = (tuple(pred.get("dialog_ids") or ()), tuple(pred.get("positions") or ()), tuple(pred.get("y_pred") or ()))
        groups.setdefault(key, []).append(s)
    return list(groups.values())


def pooled(results: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gold, predictions and dialog groups of several runs stacked (a dialog is one group across runs)."""
    parts = [predictions(r) for r in results]
    groups = np.array([d for keys, _, _ in parts for d, _ in keys], dtype=object).astype(str)
    return np.vstack([t for _, t, _ in parts]), np.vstack([p for _, _, p in parts]), groups


def run_pairs(system: Mapping[int, Mapping[str, Any]], baseline: Mapping[int, Mapping[str, Any]]) -> list[tuple[int, int]]:
    """Pairs (system seed, baseline seed), one per distinct pair of runs.

    Runs are paired through the seeds both sides share; a side with a single run is paired with
    every run of the other side; without shared seeds both sides must have one run each."""
    runs_a, runs_b = distinct_runs(system), distinct_runs(baseline)
    run_of_a = {s: i for i, g in enumerate(runs_a) for s in g}
    run_of_b = {s: i for i, g in enumerate(runs_b) for s in g}
    if len(runs_a) == 1 or len(runs_b) == 1:
        pairs = {(ia, ib) for ia in range(len(runs_a)) for ib in range(len(runs_b))}
    else:
        shared = sorted(set(run_of_a) & set(run_of_b))
        if not shared:
            raise UserError("A system and its baseline have several runs each but no seed in common; run both with the same seeds.")
        pairs = {(run_of_a[s], run_of_b[s]) for s in shared}
    return [(runs_a[ia][0], runs_b[ib][0]) for ia, ib in sorted(pairs)]


def paired_arrays(
    system: Mapping[int, Mapping[str, Any]], baseline: Mapping[int, Mapping[str, Any]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """Gold (n, L), system and baseline predictions (runs, n, L) on the test utterances that every
    paired run shares, the dialog id of each utterance, and the (system seed, baseline seed) pairs."""
    pairs = run_pairs(system, baseline)
    parts = {("a", s): predictions(system[s]) for s, _ in pairs} | {("b", s): predictions(baseline[s]) for _, s in pairs}
    shared = set.intersection(*(set(keys) for keys, _, _ in parts.values()))
    if not shared:
        raise UserError("A system and its baseline share no test utterance (dialog_id, position); check the test specs.")
    order = sorted(shared)
    gold = None
    stacks: dict[str, list[np.ndarray]] = {"a": [], "b": []}
    for side, seeds in (("a", [s for s, _ in pairs]), ("b", [s for _, s in pairs])):
        for s in seeds:
            keys, t, p = parts[(side, s)]
            where = {k: i for i, k in enumerate(keys)}
            idx = np.array([where[k] for k in order])
            if gold is None:
                gold = t[idx]
            elif not np.array_equal(gold, t[idx]):
                raise UserError("A system and its baseline disagree on the gold labels of the same test utterances; were they scored on different test data?")
            stacks[side].append(p[idx])
    groups = np.array([d for d, _ in order], dtype=object).astype(str)
    return gold, np.stack(stacks["a"]), np.stack(stacks["b"]), groups, pairs


def compare(
    system: Mapping[int, Mapping[str, Any]], baseline: Mapping[int, Mapping[str, Any]], n_permutations: int, seed: int = 0
) -> float:
    """Two-sided p-value of the paired randomization test with the test dialog as the unit (see the module docstring)."""
    from ..stats import paired_randomization_test

    gold, a, b, groups, _ = paired_arrays(system, baseline)
    return paired_randomization_test(gold, a, b, metric=TEST_METRIC, groups=groups, n_permutations=n_permutations, seed=seed)


def holm_marks(pvalues: Sequence[float | None], deltas: Sequence[float | None], alpha: float) -> list[tuple[float | None, str]]:
    """Holm-adjusted p-values over the non-None entries, and a mark: '+' better, '-' worse, '' not significant."""
    from ..stats import holm

    idx = [i for i, p in enumerate(pvalues) if p is not None]
    adjusted = dict(zip(idx, holm([pvalues[i] for i in idx]))) if idx else {}
    out: list[tuple[float | None, str]] = []
    for i, delta in enumerate(deltas):
        p = adjusted.get(i)
        mark = ""
        if p is not None and p < alpha and delta:
            mark = "+" if delta > 0 else "-"
        out.append((p, mark))
    return out
