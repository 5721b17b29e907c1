"""The decision rule: probabilities -> label sets, the same for every predictor.

A label is predicted when its probability is >= its threshold. An utterance that would get no
label gets the one label with the largest proba/threshold (first such label on a tie), so every
utterance has at least one label, as every gold utterance in MSDialog does.

Thresholds are tuned on validation data only:

* global (default): the grid value whose rule (fallback included) gives the best micro-F1;
  ties go to the value closest to 0.5, then to the smaller value.
* ``per_label=True``: start from the global threshold; each label with at least
  ``min_support`` validation positives gets the grid value that maximises that label's own F1
  (``proba[:, j] >= t`` alone, without the fallback), ties going to the value closest to the
  global threshold, then to the smaller value. Rarer labels keep the global threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .metrics import check_pair

DEFAULT_GRID = np.round(np.arange(0.05, 0.96, 0.01), 2)
MIN_SUPPORT = 10


@dataclass(frozen=True)
class Thresholds:
    """Tuned decision thresholds: one global value and optionally one per label (in label order)."""

    global_: float
    per_label: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        values = (self.global_,) + (self.per_label or ())
        if not all(0.0 < float(v) <= 1.0 for v in values):
            raise ValueError(f"thresholds must lie in (0, 1], got {values}.")

    @property
    def rule(self) -> str:
        """Short name of the rule, for result files."""
        return "per-label-f1" if self.per_label is not None else "global-micro-f1"

    def vector(self, n_labels: int) -> np.ndarray:
        """Threshold per label column as a float array of length ``n_labels``."""
        if self.per_label is None:
            return np.full(n_labels, float(self.global_))
        if len(self.per_label) != n_labels:
            raise ValueError(f"{len(self.per_label)} per-label thresholds for {n_labels} label columns.")
        return np.asarray(self.per_label, dtype=np.float64)

    def to_dict(self, labels: Sequence[str]) -> dict[str, float]:
        """Label code -> threshold applied to it (the global value where there is no per-label one)."""
        codes = [str(c) for c in labels]
        return {c: float(t) for c, t in zip(codes, self.vector(len(codes)), strict=True)}


def _check_proba(proba: np.ndarray) -> np.ndarray:
    arr = np.asarray(proba, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"proba must have shape (n_utterances, n_labels), got {arr.shape}.")
    if not np.isfinite(arr).all():
        raise ValueError("proba contains NaN or infinite values.")
    return arr


def _apply(proba: np.ndarray, thr: np.ndarray) -> np.ndarray:
    pred = proba >= thr
    empty = ~pred.any(axis=1)
    if empty.any():
        rows = np.flatnonzero(empty)
        pred[rows, np.argmax(proba[rows] / thr, axis=1)] = True
    return pred


def apply(proba: np.ndarray, thresholds: Thresholds | float) -> np.ndarray:
    """Predicted label sets (int8 indicator matrix), at least one label per utterance."""
    p = _check_proba(proba)
    th = thresholds if isinstance(thresholds, Thresholds) else Thresholds(float(thresholds))
    return _apply(p, th.vector(p.shape[1])).astype(np.int8)


def _best(scores: np.ndarray, grid: np.ndarray, target: float) -> float:
    """Grid value with the highest score; ties -> closest to target, then the smaller value."""
    best = np.flatnonzero(scores == scores.max())
    dist = np.round(np.abs(grid[best] - target), 9)
    return float(grid[best[np.flatnonzero(dist == dist.min())[0]]])


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    den = 2 * tp + fp + fn
    return np.divide(2 * tp, den, out=np.zeros(np.shape(den)), where=den != 0)


def best_micro_f1(y: np.ndarray, proba: np.ndarray, grid: np.ndarray = DEFAULT_GRID) -> tuple[float, float]:
    """(micro-F1, threshold) of the best global threshold under the decision rule (fallback included).

    The one threshold search: ``tune_threshold`` uses it for the global threshold, and predictors
    use its micro-F1 to choose between models on validation data (``tfidf-lr``'s C, ``bert``'s epoch).
    Ties go to the grid value closest to 0.5, then to the smaller value.
    """
    p = _check_proba(proba)
    if np.shape(y) != p.shape:
        raise ValueError(f"y {np.shape(y)} and proba {p.shape} must have the same shape.")
    y, _ = check_pair(y, y)
    g = np.sort(np.asarray(grid, dtype=np.float64).reshape(-1))
    if g.size == 0 or not ((g > 0) & (g <= 1)).all():
        raise ValueError("the threshold grid must be a non-empty set of values in (0, 1].")
    micro = np.empty(g.size)
    for i, t in enumerate(g):
        pred = _apply(p, np.full(p.shape[1], t))
        micro[i] = _f1(np.sum(pred & y), np.sum(pred & ~y), np.sum(~pred & y))
    best = _best(micro, g, 0.5)
    return float(micro.max()), best


def tune_threshold(
    y_valid: np.ndarray,
    proba_valid: np.ndarray,
    grid: np.ndarray = DEFAULT_GRID,
    per_label: bool = False,
    min_support: int = MIN_SUPPORT,
) -> Thresholds:
    """Thresholds that maximise micro-F1 (and, with ``per_label``, each frequent label's F1) on validation data."""
    _, global_ = best_micro_f1(y_valid, proba_valid, grid)
    if not per_label:
        return Thresholds(global_)
    p = _check_proba(proba_valid)
    y, _ = check_pair(y_valid, y_valid)
    g = np.sort(np.asarray(grid, dtype=np.float64).reshape(-1))
    per = []
    support = y.sum(axis=0)
    for j in range(p.shape[1]):
        if support[j] < min_support:
            per.append(global_)
            continue
        pred = p[:, j][None, :] >= g[:, None]  # (n_grid, n_utterances)
        col = y[:, j][None, :]
        f1 = _f1((pred & col).sum(1), (pred & ~col).sum(1), (~pred & col).sum(1))
        per.append(_best(f1, g, global_))
    return Thresholds(global_, tuple(per))
