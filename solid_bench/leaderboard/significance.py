"""Paired significance of each system against its human-only baseline, Holm-corrected over the table."""

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


def pooled(results: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gold, predictions and dialog groups of several seeds stacked (a dialog is one group across seeds)."""
    parts = [predictions(r) for r in results]
    groups = np.array([d for keys, _, _ in parts for d, _ in keys], dtype=object).astype(str)
    return np.vstack([t for _, t, _ in parts]), np.vstack([p for _, _, p in parts]), groups


def paired_arrays(
    system: Mapping[int, Mapping[str, Any]], baseline: Mapping[int, Mapping[str, Any]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """Gold, system and baseline predictions on shared test utterances, seed-paired; groups are (seed, dialog)."""
    seeds = sorted(set(system) & set(baseline))
    pairs = [(s, s) for s in seeds] or [(min(system), min(baseline))]
    gold, a, b, groups = [], [], [], []
    for sa, sb in pairs:
        ka, ta, pa = predictions(system[sa])
        kb, tb, pb = predictions(baseline[sb])
        where_b = {k: i for i, k in enumerate(kb)}
        shared = [(i, where_b[k]) for i, k in enumerate(ka) if k in where_b]
        if not shared:
            raise UserError("A system and its baseline share no test utterance (dialog_id, position); check the test specs.")
        ia, ib = (np.array(x) for x in zip(*shared))
        if not np.array_equal(ta[ia], tb[ib]):
            raise UserError("A system and its baseline disagree on the gold labels of the same test utterances; were they scored on different test data?")
        gold.append(ta[ia])
        a.append(pa[ia])
        b.append(pb[ib])
        groups.extend(f"{sa}\t{ka[i][0]}" for i in ia)
    return np.vstack(gold), np.vstack(a), np.vstack(b), np.array(groups), [s for s, _ in pairs]


def compare(
    system: Mapping[int, Mapping[str, Any]], baseline: Mapping[int, Mapping[str, Any]], n_permutations: int, seed: int = 0
) -> float:
    """Two-sided p-value of the paired randomization test (swapping whole dialogs) of system vs baseline."""
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
