"""Aggregate Result files into one tidy table: a row per (train, test, predictor, params) over seeds.

Every writer (Markdown, CSV, LaTeX, JSON, HTML, plots) renders this one table, so the numbers
agree across formats. What each number is:

* ``n_seeds`` / ``n_runs`` / ``seeds``: seeds whose test predictions are identical are one run,
  not replicates (``seeds`` writes them joined by '=', e.g. "0=1=2" for a deterministic predictor).
* ``<metric>_mean`` / ``<metric>_std``: mean and sample standard deviation (ddof=1; None for
  one run) over the distinct runs of the test metric.
* ``<metric>_ci_lo`` / ``_ci_hi``: 95% percentile bootstrap over test dialogs of the predictions
  of all distinct runs pooled (a resampled dialog brings its utterances from every run), recomputed
  here with ``stats.bootstrap_ci`` so run and test-set variation are both in the interval.
* ``tuned_on`` / ``section``: the validation data the row's thresholds and early stopping were tuned
  on; rows tuned like the table's main protocol (``Options.valid``) form the "main" section, the
  others one ablation section per validation choice.
* ``p_value`` / ``p_holm`` / ``mark``: paired randomization test on micro-F1 against the
  human-only baseline with the same test set, predictor and validation data (the test dialog is
  the unit: a swap exchanges the two systems' predictions of a dialog in every paired run at
  once; see ``significance``), Holm-corrected over all comparisons in the table; mark '+' / '-'
  when p_holm < alpha.
* ``training_data`` / ``generator``: the training data by name with sizes ("SOLID · Qwen2.5-Coder-1.5B
  · 500 dialogs") and the names of its generated parts ('' for human data alone); see ``naming``.
* ``n_synthetic_dialogs``: synthetic dialogs in the training split (corpus summary, mixture parts
  summed; after any validation hold-out), else the size in a ``solid@500`` spec; ``n_human_dialogs``
  likewise for the human parts.
* ``human_equiv`` and its interval and flags, ``human_equiv_per_1m_tokens``: human training dialogs
  that reach the row's micro-F1 on the human learning curve (see ``exchange``).
* cost: the synthetic training data's generation cost, marginal (the dialogs' own calls) and all-in
  (seeding, instruction merging, retries, rejected plans and, for a trained generator, its own
  training data and compute), totals and per 1,000 dialogs (see ``cost``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import UserError
from ..results import config_hash
from .cost import COST_COLUMNS, Prices, cost_columns, synthetic_dialogs
from .exchange import COLUMNS as EXCHANGE_COLUMNS
from .naming import TrainPart, distinct_names, naming_columns, train_parts
from .significance import TEST_METRIC, compare, distinct_runs, holm_marks, pooled

METRICS = ("micro_f1", "qu_accuracy", "macro_f1", "micro_p", "micro_r", "exact_match")
DIGITS = 4
BASELINE_ALIASES = {"human": ("human", "msdialog"), "msdialog": ("human", "msdialog")}
KEY_COLUMNS = ("test", "predictor", "params_hash", "train", "tuned_on")
MAIN_SECTION = "main"
COLUMNS = (
    "section", "test", "predictor", "params", "params_hash", "train", "training_data", "tuned_on", "generator", "n_seeds", "n_runs",
    "seeds", "n_test_utterances", "n_synthetic_dialogs", "n_human_dialogs", "is_baseline", "baseline",
    *(f"{m}_{s}" for m in METRICS for s in ("mean", "std", "ci_lo", "ci_hi")),
    "p_value", "p_holm", "mark", *EXCHANGE_COLUMNS, *COST_COLUMNS, "train_seconds_mean", "predict_seconds_mean",
)  # fmt: skip


@dataclass(frozen=True)
class Options:
    """How to aggregate: baseline train spec (None: any human-only corpus), the main section's
    validation data, prices, test settings."""

    baseline: str | None = "human"
    valid: str = "human"
    prices: Prices = field(default_factory=Prices)
    alpha: float = 0.05
    n_resamples: int = 1000
    n_permutations: int = 10000


@dataclass(frozen=True)
class Table:
    """The one leaderboard table: ``rows`` (COLUMNS), long per-label F1 rows, and caption facts in ``meta``."""

    rows: tuple[dict[str, Any], ...]
    per_label: tuple[dict[str, Any], ...]
    meta: dict[str, Any]
    columns: tuple[str, ...] = COLUMNS


def _r(x: Any) -> Any:
    """Round floats to DIGITS (and drop -0.0) so every output shows the same numbers."""
    if x is None or isinstance(x, (bool, int, str)):
        return x
    return round(float(x), DIGITS) + 0.0


def _mean_std(values: Sequence[float]) -> tuple[float, float | None]:
    arr = np.asarray(values, dtype=np.float64)
    return float(arr.mean()), (float(arr.std(ddof=1)) if arr.size > 1 else None)


def tuned_on(result: Mapping[str, Any]) -> str:
    """The validation data a Result was tuned on: ``human``, ``holdout`` or a corpus spec.

    Results written before the choice was explicit (``valid = "auto"``) say it in
    ``corpora.valid.how``."""
    valid = result["cell"].get("valid", "auto")
    if valid != "auto":
        return valid
    how = str(((result.get("corpora") or {}).get("valid") or {}).get("how", ""))
    if how.startswith("human valid split"):
        return "human"
    if "held out" in how:
        return "holdout"
    return how.removeprefix("given: ") or "auto"


def group_results(results: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str, str, str, str], dict[int, Mapping[str, Any]]]:
    """Results keyed by (test, predictor, params_hash, train, tuned_on), then by seed; a repeated seed is an error."""
    groups: dict[tuple[str, str, str, str, str], dict[int, Mapping[str, Any]]] = defaultdict(dict)
    for r in results:
        cell = r["cell"]
        key = (cell["test"], cell["predictor"], config_hash(cell.get("params") or {}), cell["train"], tuned_on(r))
        seed = int(cell["seed"])
        if seed in groups[key]:
            raise UserError(f"Two results for train={key[3]!r} test={key[0]!r} predictor={key[1]!r} valid={key[4]!r} seed {seed}; "
                            "keep one results folder per run.")
        groups[key][seed] = r
    return dict(sorted(groups.items()))


def _is_baseline(first: Mapping[str, Any], baseline: str | None) -> bool:
    if baseline is not None:
        return first["cell"]["train"] in BASELINE_ALIASES.get(baseline, (baseline,))
    train = first.get("corpora", {}).get("train", {})
    return bool(train.get("has_human")) and not train.get("synthetic")


def _row(key: tuple[str, str, str, str, str], by_seed: Mapping[int, Mapping[str, Any]], parts: Sequence[TrainPart],
         options: Options) -> dict[str, Any]:
    from ..stats import bootstrap_ci

    test, predictor, params_hash, train, tuned = key
    seeds = sorted(by_seed)
    runs = distinct_runs(by_seed)
    ordered = [by_seed[g[0]] for g in runs]  # one Result per distinct run
    first = by_seed[seeds[0]]
    summary = first.get("corpora", {}).get("train")
    cost = first.get("generation_cost") or (summary or {}).get("generation_cost")
    gold, pred, groups = pooled(ordered)
    ci = bootstrap_ci(gold, pred, groups, metrics=METRICS, n_resamples=options.n_resamples, alpha=options.alpha, seed=0)
    row: dict[str, Any] = {
        "section": MAIN_SECTION if tuned == options.valid else f"ablation: tuned on {tuned}",
        "test": test, "predictor": predictor,
        "params": _params_text(first["cell"].get("params") or {}), "params_hash": params_hash,
        "train": train, "tuned_on": tuned, **naming_columns(parts), "n_seeds": len(seeds), "n_runs": len(runs),
        "seeds": ",".join("=".join(map(str, g)) for g in runs),
        "n_test_utterances": int(first["metrics"].get("n_utterances", len(first["predictions"]["y_true"]))),
        "n_synthetic_dialogs": synthetic_dialogs(summary, train),
        "is_baseline": _is_baseline(first, options.baseline), "baseline": "",
    }  # fmt: skip
    for m in METRICS:
        mean, std = _mean_std([r["metrics"][m] for r in ordered])
        row.update({f"{m}_mean": mean, f"{m}_std": std, f"{m}_ci_lo": ci[m][0], f"{m}_ci_hi": ci[m][1]})
    row.update({"p_value": None, "p_holm": None, "mark": ""})
    row.update(cost_columns(cost, options.prices))
    for t in ("train_seconds", "predict_seconds"):
        row[f"{t}_mean"] = _mean_std([float((by_seed[s].get("timing") or {}).get(t) or 0.0) for s in seeds])[0]
    return row


def _params_text(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={params[k]}" for k in sorted(params))


def _per_label(key: tuple[str, str, str, str, str], by_seed: Mapping[int, Mapping[str, Any]]) -> list[dict[str, Any]]:
    ordered = [by_seed[g[0]] for g in distinct_runs(by_seed)]
    labels = ordered[0]["metrics"].get("per_label") or {}
    out = []
    for code in labels:
        mean, std = _mean_std([r["metrics"]["per_label"].get(code, {}).get("f1", 0.0) for r in ordered])
        support = int(labels[code].get("support", 0))
        out.append({"test": key[0], "predictor": key[1], "params_hash": key[2], "train": key[3], "tuned_on": key[4], "label": code,
                    "f1_mean": _r(mean), "f1_std": _r(std), "support": support})  # fmt: skip
    return out


def _find_baseline(row: dict[str, Any], rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The baseline row with the same test, predictor and validation data, preferring the same parameters."""
    same = [b for b in rows if b["is_baseline"] and b["test"] == row["test"] and b["predictor"] == row["predictor"]
            and b["tuned_on"] == row["tuned_on"]]
    exact = [b for b in same if b["params_hash"] == row["params_hash"]]
    return (exact or same or [None])[0]


def build_table(results: Sequence[Mapping[str, Any]], options: Options = Options(), anchor: Path | None = None) -> Table:
    """Aggregate Results over seeds, add CIs, significance against the baseline, human-equivalent dialogs and
    cost columns. ``anchor`` (the results folder) helps find run folders named in older Results (``naming``)."""
    from .exchange import human_equivalents
    from .naming import human_curve_point
    from .provenance import provenance

    if not results:
        raise UserError("No results to aggregate; run `solid-bench run` or `solid-bench matrix` first.")
    groups = group_results(results)
    keys = list(groups)
    parts = distinct_names([train_parts(by_seed[min(by_seed)], anchor) for by_seed in groups.values()])
    rows = [_row(key, by_seed, p, options) for (key, by_seed), p in zip(groups.items(), parts)]

    def pooled_of(i: int):
        by_seed = groups[keys[i]]
        return pooled([by_seed[g[0]] for g in distinct_runs(by_seed)])

    for row, cols in zip(rows, human_equivalents(rows, pooled_of, options.n_resamples, options.alpha)):
        row.update(cols)
    pvalues: list[float | None] = []
    deltas: list[float | None] = []
    for i, row in enumerate(rows):
        # a sample of human train (human@500) is a point of the human learning curve, the ruler that
        # human-equivalent dialogs are read from, not a hypothesis: it is not tested against the baseline
        base = None if row["is_baseline"] or human_curve_point(row["train"]) else _find_baseline(row, rows)
        if base is None:
            pvalues.append(None)
            deltas.append(None)
            continue
        row["baseline"] = base["train"]
        bkey = (base["test"], base["predictor"], base["params_hash"], base["train"], base["tuned_on"])
        pvalues.append(compare(groups[keys[i]], groups[bkey], options.n_permutations))
        deltas.append(row[f"{TEST_METRIC}_mean"] - base[f"{TEST_METRIC}_mean"])
    for row, p, (adj, mark) in zip(rows, pvalues, holm_marks(pvalues, deltas, options.alpha)):
        row.update({"p_value": p, "p_holm": adj, "mark": mark})
    rows = [{c: _r(row[c]) for c in COLUMNS} for row in rows]
    order = sorted(range(len(rows)), key=lambda i: _sort_key(rows[i]))
    per_label = [x for i in order for x in _per_label(keys[i], groups[keys[i]])]
    n_seeds = sorted({r["n_seeds"] for r in rows})
    family = [f"{r['train']} vs {r['baseline']} ({r['predictor']}, tuned on {r['tuned_on']})" for r in rows if r["p_value"] is not None]
    meta = {
        "valid": options.valid,
        "holm_family": family,
        "n_runs": sorted({r["n_runs"] for r in rows}),
        "metrics": list(METRICS),
        "test_metric": TEST_METRIC,
        "alpha": options.alpha,
        "n_seeds": n_seeds,
        "n_resamples": options.n_resamples,
        "n_permutations": options.n_permutations,
        "n_comparisons": sum(p is not None for p in pvalues),
        "baseline": options.baseline or "any human-only training corpus",
        "prices": options.prices.describe(),
        "provenance": provenance(results),
    }
    return Table(rows=tuple(rows[i] for i in order), per_label=tuple(per_label), meta=meta)


def _sort_key(row: Mapping[str, Any]) -> tuple:
    """Main section first, then test set, predictor, baseline first, then generator (human data first), pure synthetic
    before mixtures, and size: stable and readable."""
    return (row["section"] != MAIN_SECTION, row["section"], row["test"], row["predictor"], row["params_hash"],
            not row["is_baseline"], row["generator"], bool(row["n_synthetic_dialogs"] and row["n_human_dialogs"]),
            row["n_synthetic_dialogs"] or 0, row["n_human_dialogs"] or 0, row["train"])  # fmt: skip
