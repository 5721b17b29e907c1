"""Human-equivalent dialogs (the "exchange rate"): how many human training dialogs reach a row's micro-F1.

The human learning curve of a row trained with synthetic data (pure or mixed) is the rows with
the same test set, predictor, parameters and validation data trained on human dialogs alone:
``human@N`` (randomly sampled) and ``human`` (all), at N = their human training dialogs. Its
points are the mean micro-F1 over runs, made monotone first (running maximum over increasing N:
more human data is never credited with less), and read piecewise linearly in log N: the value is
the smallest N at which the curve reaches the row's micro-F1. Outside the curve the value is
censored: below its first point it is "< N_min", above its last "> N_max" (stored as N_min or
N_max with the flag '<' or '>').

Interval: a bootstrap over test dialogs, the unit of every interval here. Each resample gives the
row and every curve point the same dialogs (``stats.shared_bootstrap``, the CI columns' seed),
recomputes their micro-F1 with each one's distinct runs pooled (as the CI columns do), rebuilds
the monotone curve and reads the row off it. The bounds are the alpha/2 and 1 - alpha/2 order
statistics (NumPy's 'lower' and 'higher' methods) with a censored resample counting as below or
above every value, so a bound can itself be censored.

Per 1M all-in tokens: (human-equivalent dialogs - human dialogs in the training set) divided by
the all-in generation tokens of its synthetic dialogs / 1e6: the value itself for synthetic data
alone, the gain over the human dialogs it already holds for a mixture; blank without a cost.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

COLUMNS = (
    "human_equiv", "human_equiv_flag", "human_equiv_ci_lo", "human_equiv_ci_lo_flag",
    "human_equiv_ci_hi", "human_equiv_ci_hi_flag", "human_equiv_per_1m_tokens",
)  # fmt: skip
_FLAGS = {-1: "<", 0: "", 1: ">"}


def read_curve(ns: Sequence[float], f1: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Human dialogs at which each monotone curve reaches y: (values, flags -1 below / 0 inside / +1 above).

    ``ns`` (P,) increasing; ``f1`` (R, P), one curve per resample; ``y`` (R,). A value inside is
    interpolated linearly in log N on the first segment that reaches y; a censored one is N_min or N_max."""
    n = np.asarray(ns, dtype=np.float64)
    logn = np.log(n)
    c = np.maximum.accumulate(np.atleast_2d(np.asarray(f1, dtype=np.float64)), axis=1)
    y = np.atleast_1d(np.asarray(y, dtype=np.float64))
    flags = np.where(y < c[:, 0], -1, np.where(y > c[:, -1], 1, 0))
    if len(logn) == 1:
        return np.full(y.shape, n[0]), flags
    i = np.clip((c < y[:, None]).sum(axis=1), 1, len(logn) - 1)  # segment (i-1, i): c[i-1] < y <= c[i]
    rows = np.arange(len(y))
    lo, hi = c[rows, i - 1], c[rows, i]
    t = np.clip(np.divide(y - lo, hi - lo, out=np.zeros_like(y), where=hi > lo), 0.0, 1.0)
    values = np.exp(logn[i - 1] + t * (logn[i] - logn[i - 1]))
    values = np.where(flags < 0, n[0], np.where(flags > 0, n[-1], values))
    return values, flags


def interval(values: np.ndarray, flags: np.ndarray, ns: Sequence[float], alpha: float) -> tuple[tuple[float, str], tuple[float, str]]:
    """(lo, flag), (hi, flag): the alpha/2 and 1 - alpha/2 order statistics, censored resamples outside every value."""
    code = np.where(flags < 0, -np.inf, np.where(flags > 0, np.inf, np.log(values)))
    out = []
    for q, method in ((alpha / 2, "lower"), (1 - alpha / 2, "higher")):
        v = float(np.quantile(code, q, method=method))
        out.append((float(ns[0]), "<") if v == -np.inf else (float(ns[-1]), ">") if v == np.inf else (float(np.exp(v)), ""))
    return out[0], out[1]


def human_curves(rows: Sequence[Mapping[str, Any]]) -> dict[tuple, list[int]]:
    """(test, predictor, params_hash, tuned_on) -> indices of its human-curve rows, by increasing N (one row per N:
    the whole corpus before a sample of the same size, then table order)."""
    from .naming import human_curve_point

    curves: dict[tuple, dict[int, int]] = {}
    for i, r in enumerate(rows):
        if r["n_human_dialogs"] and human_curve_point(r["train"]):
            points = curves.setdefault((r["test"], r["predictor"], r["params_hash"], r["tuned_on"]), {})
            n = int(r["n_human_dialogs"])
            if n not in points or "@" in rows[points[n]]["train"] and "@" not in r["train"]:
                points[n] = i
    return {k: [v[n] for n in sorted(v)] for k, v in curves.items()}


def human_equivalents(
    rows: Sequence[Mapping[str, Any]], pooled_of: Callable[[int], tuple[np.ndarray, np.ndarray, np.ndarray]], n_resamples: int, alpha: float
) -> list[dict[str, Any]]:
    """The COLUMNS of every row (None where a row has no synthetic data or no human curve).

    ``rows`` carry test, predictor, params_hash, tuned_on, train, micro_f1_mean, n_synthetic_dialogs,
    n_human_dialogs and all_in_tokens; ``pooled_of(i)`` gives row i's pooled (gold, predictions, dialog ids)."""
    from ..stats import shared_bootstrap

    curves = human_curves(rows)
    out: list[dict[str, Any]] = []
    for i, r in enumerate(rows):
        cols: dict[str, Any] = dict.fromkeys(COLUMNS)
        curve = curves.get((r["test"], r["predictor"], r["params_hash"], r["tuned_on"]))
        if r["n_synthetic_dialogs"] and curve:
            ns = [float(rows[j]["n_human_dialogs"]) for j in curve]
            (value,), (flag,) = read_curve(ns, np.array([[rows[j]["micro_f1_mean"] for j in curve]]), np.array([r["micro_f1_mean"]]))
            dist = shared_bootstrap([pooled_of(j) for j in [*curve, i]], "micro_f1", n_resamples, seed=0)
            (lo, lo_flag), (hi, hi_flag) = interval(*read_curve(ns, dist[:-1].T, dist[-1]), ns, alpha)
            cols.update({"human_equiv": float(value), "human_equiv_flag": _FLAGS[int(flag)], "human_equiv_ci_lo": lo,
                         "human_equiv_ci_lo_flag": lo_flag, "human_equiv_ci_hi": hi, "human_equiv_ci_hi_flag": hi_flag})  # fmt: skip
            tokens, human = r.get("all_in_tokens"), r["n_human_dialogs"]
            if tokens and human is not None:
                cols["human_equiv_per_1m_tokens"] = (float(value) - float(human)) / (float(tokens) / 1e6)
        out.append(cols)
    return out
