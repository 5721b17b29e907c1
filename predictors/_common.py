"""Helpers shared by predictors (not a predictor: the leading underscore keeps it out of discovery)."""

from __future__ import annotations

import numpy as np


def best_global_micro_f1(proba: np.ndarray, y: np.ndarray, grid: np.ndarray | None = None) -> tuple[float, float]:
    """(micro-F1, threshold) of the best global threshold, at least one label per utterance.

    Used only for model selection on validation data; the harness does its own decision tuning.
    """
    grid = np.arange(0.02, 0.98, 0.01) if grid is None else grid
    y = np.asarray(y).astype(bool)
    top = np.zeros_like(y)
    if len(proba):
        top[np.arange(len(proba)), proba.argmax(axis=1)] = True
    best = (0.0, 0.5)
    for t in grid:
        d = (proba >= t) | top
        tp = np.logical_and(d, y).sum()
        denom = d.sum() + y.sum()
        f1 = 2 * tp / denom if denom else 0.0
        if f1 > best[0]:
            best = (float(f1), float(t))
    return best
