"""Multi-label intent metrics over binary indicator matrices (n_utterances, n_labels).

Conventions (the same in ``score``, the bootstrap and the randomization test):

* ``qu_accuracy``: per utterance |Y∩Ŷ| / |Y∪Ŷ| (1 when both sets are empty), averaged over
  utterances. This is what Qu et al. (SIGIR 2019) call "accuracy" for MSDialog-IntentPred
  (sklearn: ``jaccard_score(average="samples", zero_division=1)``).
* ``micro_p``, ``micro_r``, ``micro_f1``: TP/FP/FN pooled over all utterance-label pairs;
  a 0/0 ratio is 0 (sklearn ``zero_division=0``). F1 = 2TP / (2TP + FP + FN).
* ``macro_f1``: mean of per-label F1 over the labels that occur in the gold *or* the predicted
  sets of the scored utterances. A label with no support and no predictions has an undefined
  F1 and is left out, so a test set's label composition does not count as an error of every
  system; a label predicted but absent from the gold counts with F1 = 0. 0 when no label occurs.
  (= sklearn ``f1_score(average="macro", labels=<those labels>, zero_division=0)``.)
* ``exact_match``: share of utterances whose predicted set equals the gold set (subset accuracy).

``UnitCounts`` holds per-unit (utterance or dialog) sufficient statistics so that the bootstrap
and the randomization test recompute every metric for thousands of resamples with a few matrix
products (``metrics_from_sums``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

METRICS = ("qu_accuracy", "micro_p", "micro_r", "micro_f1", "macro_f1", "exact_match")


def _as_binary(y: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D indicator matrix (n_utterances, n_labels), got shape {arr.shape}.")
    if arr.dtype != bool:
        if not np.isin(arr, (0, 1)).all():
            raise ValueError(f"{name} must contain only 0 and 1.")
        arr = arr.astype(bool)
    return arr


def check_pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate two indicator matrices of the same non-empty shape; return them as bool arrays."""
    t, p = _as_binary(y_true, "y_true"), _as_binary(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true {t.shape} and y_pred {p.shape} must have the same shape.")
    if t.shape[0] == 0:
        raise ValueError("cannot score zero utterances.")
    return t, p


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num/den elementwise, 0 where den == 0 (sklearn's zero_division=0)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den != 0)
    return out


def qu_scores(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Per-utterance |Y∩Ŷ|/|Y∪Ŷ| (1.0 when both are empty), for bool matrices."""
    inter = (t & p).sum(axis=1)
    union = (t | p).sum(axis=1)
    return np.where(union == 0, 1.0, _ratio(inter, union))


def metrics_from_sums(
    tp: np.ndarray,
    fp: np.ndarray,
    fn: np.ndarray,
    qu: np.ndarray,
    exact: np.ndarray,
    n: np.ndarray,
    names: Iterable[str] = METRICS,
) -> dict[str, np.ndarray]:
    """Metrics from summed counts; tp/fp/fn have shape (..., n_labels), qu/exact/n shape (...)."""
    out: dict[str, np.ndarray] = {}
    tp, fp, fn = (np.asarray(a, dtype=np.int64) for a in (tp, fp, fn))
    for name in names:
        if name == "qu_accuracy":
            out[name] = _ratio(qu, n)
        elif name == "exact_match":
            out[name] = _ratio(exact, n)
        elif name in ("micro_p", "micro_r", "micro_f1"):
            t, f_p, f_n = tp.sum(-1), fp.sum(-1), fn.sum(-1)
            if name == "micro_p":
                out[name] = _ratio(t, t + f_p)
            elif name == "micro_r":
                out[name] = _ratio(t, t + f_n)
            else:
                out[name] = _ratio(2 * t, 2 * t + f_p + f_n)
        elif name == "macro_f1":
            den = 2 * tp + fp + fn
            present = den > 0
            f1 = _ratio(2 * tp, den)
            out[name] = _ratio(f1.sum(-1), present.sum(-1))
        else:
            from .errors import UserError, did_you_mean

            raise UserError(f"unknown metric {name!r}; choose from {', '.join(METRICS)}.{did_you_mean(name, METRICS)}")
    return out


@dataclass(frozen=True)
class UnitCounts:
    """Sufficient statistics per unit (utterance or dialog): per-label TP/FP/FN, summed qu score, exact matches, size."""

    tp: np.ndarray  # (n_units, n_labels) int64
    fp: np.ndarray
    fn: np.ndarray
    qu: np.ndarray  # (n_units,) float64, sum of per-utterance qu scores
    exact: np.ndarray  # (n_units,) int64
    n: np.ndarray  # (n_units,) int64, utterances per unit

    @property
    def n_units(self) -> int:
        """Number of units (rows)."""
        return int(self.n.shape[0])

    def total(self, names: Iterable[str] = METRICS) -> dict[str, float]:
        """Metrics over all units pooled."""
        res = metrics_from_sums(self.tp.sum(0), self.fp.sum(0), self.fn.sum(0), self.qu.sum(), self.exact.sum(), self.n.sum(), names)
        return {k: float(v) for k, v in res.items()}

    def weighted(self, weights: np.ndarray, names: Iterable[str] = METRICS) -> dict[str, np.ndarray]:
        """Metrics for many resamples at once: ``weights`` (n_resamples, n_units) counts how often each unit is drawn."""
        w = np.asarray(weights)
        if w.ndim != 2 or w.shape[1] != self.n_units:
            raise ValueError(f"weights must have shape (n_resamples, {self.n_units}), got {w.shape}.")
        wf = w.astype(np.float64)
        # Counts stay far below 2**53, so float matmul (BLAS) is exact here and much faster than int matmul.
        tp, fp, fn = (np.rint(wf @ a).astype(np.int64) for a in (self.tp, self.fp, self.fn))
        exact = np.rint(wf @ self.exact).astype(np.int64)
        n = np.rint(wf @ self.n).astype(np.int64)
        return metrics_from_sums(tp, fp, fn, wf @ self.qu, exact, n, names)


def unit_counts(y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray | None = None) -> UnitCounts:
    """Per-unit sufficient statistics; units are utterances, or dialogs when ``groups`` (one id per utterance) is given.

    Units are ordered by sorted group id (``np.unique``), so any integer or string ids work.
    """
    t, p = check_pair(y_true, y_pred)
    tp, fp, fn = (t & p).astype(np.int64), (~t & p).astype(np.int64), (t & ~p).astype(np.int64)
    qu = qu_scores(t, p)
    exact = (t == p).all(axis=1).astype(np.int64)
    if groups is None:
        return UnitCounts(tp, fp, fn, qu, exact, np.ones(t.shape[0], dtype=np.int64))
    g = np.asarray(groups)
    if g.shape != (t.shape[0],):
        raise ValueError(f"groups must have one entry per utterance ({t.shape[0]}), got shape {g.shape}.")
    _, inv = np.unique(g, return_inverse=True)
    inv = inv.reshape(-1)
    k = int(inv.max()) + 1

    def by_group(a: np.ndarray) -> np.ndarray:
        out = np.zeros((k,) + a.shape[1:], dtype=a.dtype)
        np.add.at(out, inv, a)
        return out

    return UnitCounts(by_group(tp), by_group(fp), by_group(fn), by_group(qu), by_group(exact), np.bincount(inv, minlength=k).astype(np.int64))


def score(y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[str] | None = None) -> dict:
    """All metrics for one test set (see the module docstring for the exact definitions).

    Returns ``qu_accuracy, micro_p, micro_r, micro_f1, macro_f1, exact_match`` (floats),
    ``n_utterances`` (int) and ``per_label``: code -> {p, r, f1, support, predicted}, where
    ``support`` counts gold occurrences and ``predicted`` predicted ones. Label codes default to
    "0", "1", ... when ``labels`` is None.
    """
    t, p = check_pair(y_true, y_pred)
    codes = [str(j) for j in range(t.shape[1])] if labels is None else [str(c) for c in labels]
    if len(codes) != t.shape[1]:
        raise ValueError(f"{len(codes)} label codes given for {t.shape[1]} label columns.")
    counts = unit_counts(t, p)
    result: dict = counts.total()
    result["n_utterances"] = int(t.shape[0])
    tp, fp, fn = counts.tp.sum(0), counts.fp.sum(0), counts.fn.sum(0)
    prec, rec, f1 = _ratio(tp, tp + fp), _ratio(tp, tp + fn), _ratio(2 * tp, 2 * tp + fp + fn)
    result["per_label"] = {
        code: {"p": float(prec[j]), "r": float(rec[j]), "f1": float(f1[j]), "support": int(tp[j] + fn[j]), "predicted": int(tp[j] + fp[j])}
        for j, code in enumerate(codes)
    }
    return result
