"""Statistics for leaderboards: dialog bootstrap CIs, paired randomization test, Holm correction.

All three work on per-unit sufficient statistics (``metrics.UnitCounts``), so 1000 bootstrap
resamples or 10000 permutations cost a few matrix products. Results are deterministic for a
given seed (NumPy ``default_rng``; the draws are made in fixed-size chunks).
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from .errors import UserError
from .metrics import METRICS, UnitCounts, metrics_from_sums, unit_counts

DEFAULT_CI_METRICS = ("micro_f1", "qu_accuracy", "macro_f1", "micro_p", "micro_r", "exact_match")
EXACT_MAX_UNITS = 16  # enumerate all 2**n swaps up to here when exact=None
EXACT_LIMIT = 24  # refuse exact=True beyond this (2**24 ≈ 17M patterns)
_CHUNK = 2048  # rows per chunk of resamples/permutations: bounds memory, fixes the RNG draw order
_TIE_TOL = 1e-10  # |d_perm| >= |d_obs| - tol: equal differences computed in another order still count as ties


def _check_metrics(names: Iterable[str]) -> tuple[str, ...]:
    names = tuple(names)
    from .errors import did_you_mean

    for name in names:
        if name not in METRICS:
            raise UserError(f"unknown metric {name!r}; choose from {', '.join(METRICS)}.{did_you_mean(name, METRICS)}")
    return names


def bootstrap_distribution(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: np.ndarray | None,
    metrics: Sequence[str] = DEFAULT_CI_METRICS,
    n_resamples: int = 1000,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Metric values on ``n_resamples`` bootstrap test sets that resample whole dialogs (utterances when groups is None)."""
    names = _check_metrics(metrics)
    counts = unit_counts(y_true, y_pred, groups)
    parts: dict[str, list[np.ndarray]] = {m: [] for m in names}
    for weights in _resample_weights(counts.n_units, n_resamples, seed):
        for m, v in counts.weighted(weights, names).items():
            parts[m].append(v)
    return {m: np.concatenate(v) for m, v in parts.items()}


def _resample_weights(k: int, n_resamples: int, seed: int) -> Iterable[np.ndarray]:
    """Chunks of bootstrap weights: row i says how many times each of the ``k`` units was drawn in resample i."""
    if n_resamples < 1:
        raise UserError(f"n_resamples must be at least 1, got {n_resamples}.")
    rng = np.random.default_rng(seed)
    for start in range(0, n_resamples, _CHUNK):
        r = min(_CHUNK, n_resamples - start)
        draws = rng.integers(0, k, size=(r, k))
        yield np.bincount((draws + k * np.arange(r)[:, None]).ravel(), minlength=r * k).reshape(r, k)


def shared_bootstrap(
    systems: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]], metric: str = "micro_f1", n_resamples: int = 1000, seed: int = 0
) -> np.ndarray:
    """``metric`` of several systems on the same bootstrap test sets: (n_systems, n_resamples).

    Each system is (y_true, y_pred, dialog id per utterance); every resample draws dialogs from the
    union of their dialog ids and gives each system the same dialogs (a system scores the ones it
    has). With one shared set of dialogs, a system's row equals ``bootstrap_distribution`` with the
    same seed, so it matches that system's own CI."""
    (name,) = _check_metrics((metric,))
    counts = [unit_counts(t, p, g) for t, p, g in systems]
    ids = [np.unique(np.asarray(g)) for _, _, g in systems]
    union = np.unique(np.concatenate(ids))
    cols = [np.searchsorted(union, i) for i in ids]
    out: list[list[np.ndarray]] = [[] for _ in systems]
    for weights in _resample_weights(len(union), n_resamples, seed):
        for j, (c, col) in enumerate(zip(counts, cols)):
            out[j].append(c.weighted(weights[:, col], (name,))[name])
    return np.stack([np.concatenate(v) for v in out]) if systems else np.zeros((0, n_resamples))


def bootstrap_ci(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: np.ndarray | None,
    metrics: Sequence[str] = DEFAULT_CI_METRICS,
    n_resamples: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> dict[str, tuple[float, float]]:
    """Percentile (1-alpha) CIs per metric from a bootstrap over whole dialogs (``groups``: dialog id per utterance).

    Each resample draws as many dialogs as the test set has, with replacement; the interval is the
    alpha/2 and 1-alpha/2 quantiles (NumPy's default linear interpolation) of the resampled metric.
    """
    if not 0 < alpha < 1:
        raise UserError(f"alpha must be between 0 and 1, got {alpha}.")
    dist = bootstrap_distribution(y_true, y_pred, groups, metrics, n_resamples, seed)
    return {m: (float(np.quantile(v, alpha / 2)), float(np.quantile(v, 1 - alpha / 2))) for m, v in dist.items()}


def _diffs(swaps: np.ndarray, a: UnitCounts, b: UnitCounts, metric: str) -> np.ndarray:
    """metric(A') - metric(B') for each row of ``swaps`` (1 = exchange A and B on that unit)."""
    s = swaps.astype(np.float64)
    out = []
    for sign, base in ((1, a), (-1, b)):
        sums = []
        for name in ("tp", "fp", "fn", "exact"):
            delta = (getattr(b, name) - getattr(a, name)).astype(np.float64)
            sums.append(getattr(base, name).sum(0) + sign * np.rint(s @ delta).astype(np.int64))
        qu = base.qu.sum() + sign * (s @ (b.qu - a.qu))
        n = np.full(s.shape[0], int(a.n.sum()))
        out.append(metrics_from_sums(sums[0], sums[1], sums[2], qu, sums[3], n, (metric,))[metric])
    return out[0] - out[1]


def _runs(pred: np.ndarray) -> np.ndarray:
    """Predictions as (n_runs, n_utterances, n_labels): a 2-D matrix is one run."""
    pred = np.asarray(pred)
    return pred[None] if pred.ndim == 2 else pred


def paired_randomization_test(
    y_true: np.ndarray,
    pred_a: np.ndarray,
    pred_b: np.ndarray,
    metric: str = "micro_f1",
    groups: np.ndarray | None = None,
    n_permutations: int = 10000,
    seed: int = 0,
    exact: bool | None = None,
) -> float:
    """Two-sided p-value of metric(A) - metric(B) under random swapping of A's and B's predictions per unit.

    ``pred_a`` and ``pred_b`` are (n_utterances, n_labels) matrices, or (n_runs, n_utterances, n_labels)
    stacks of paired runs (seeds): run r of A is paired with run r of B, the statistic is the mean over
    runs of metric(A_r) - metric(B_r), and one swap exchanges A's and B's predictions on a unit in every
    run at once, so the unit, not the (run, unit) pair, is what is randomized.
    Units are utterances, or whole dialogs when ``groups`` (dialog id per utterance) is given.
    With at most 16 units (or ``exact=True``, up to 24) all 2**n swap patterns are enumerated and
    the exact p-value count/2**n is returned (the identity pattern is one of them, so p >= 2**-n).
    Otherwise (or with ``exact=False``) ``n_permutations`` random patterns are drawn and
    p = (count + 1) / (n_permutations + 1). A pattern counts when |d| >= |d_observed| - 1e-10.
    """
    _check_metrics((metric,))
    runs_a, runs_b = _runs(pred_a), _runs(pred_b)
    if runs_a.shape != runs_b.shape or runs_a.ndim != 3:
        raise ValueError(f"pred_a {np.asarray(pred_a).shape} and pred_b {np.asarray(pred_b).shape} must have the same shape "
                         "(n_utterances, n_labels) or (n_runs, n_utterances, n_labels).")
    pairs = [(unit_counts(y_true, a, groups), unit_counts(y_true, b, groups)) for a, b in zip(runs_a, runs_b)]
    k = pairs[0][0].n_units

    def diffs(swaps: np.ndarray) -> np.ndarray:
        return np.mean([_diffs(swaps, a, b, metric) for a, b in pairs], axis=0)

    observed = abs(float(diffs(np.zeros((1, k)))[0]))
    threshold = observed - _TIE_TOL
    if exact is None:
        exact = k <= EXACT_MAX_UNITS
    if exact:
        if k > EXACT_LIMIT:
            raise UserError(f"an exact randomization test over {k} units needs 2**{k} swaps; use exact=False (Monte Carlo) for more than {EXACT_LIMIT} units.")
        total = 1 << k
        count = 0
        bits = np.arange(k, dtype=np.int64)
        for start in range(0, total, _CHUNK):
            codes = np.arange(start, min(total, start + _CHUNK), dtype=np.int64)
            swaps = (codes[:, None] >> bits) & 1
            count += int((np.abs(diffs(swaps)) >= threshold).sum())
        return count / total
    if n_permutations < 1:
        raise UserError(f"n_permutations must be at least 1, got {n_permutations}.")
    rng = np.random.default_rng(seed)
    count = 0
    for start in range(0, n_permutations, _CHUNK):
        swaps = rng.integers(0, 2, size=(min(_CHUNK, n_permutations - start), k))
        count += int((np.abs(diffs(swaps)) >= threshold).sum())
    return (count + 1) / (n_permutations + 1)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order (step-down, made monotone, capped at 1)."""
    p = np.asarray(pvalues, dtype=np.float64).reshape(-1)
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError("p-values must be numbers in [0, 1].")
    m = p.size
    order = np.argsort(p, kind="stable")
    adjusted_sorted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted_sorted
    return [float(x) for x in out]
