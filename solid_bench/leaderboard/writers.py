"""Leaderboard writers: ``format -> writer`` registry, and the captions and cells they all share.

A writer is one file ``writer_<name>.py`` in this package that registers a function
``write(table, out_dir) -> list[Path]`` with ``@WRITERS.register("<format>")``; ``load_writers``
discovers those files, so adding a format is adding a file.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from ..registry import Registry
from .table import MAIN_SECTION, METRICS, Table

Writer = Callable[[Table, Path], list[Path]]
WRITERS: Registry = Registry("leaderboard format")
STEM = "leaderboard"
METRIC_NAMES = {
    "micro_f1": "micro-F1", "qu_accuracy": "QU-acc.", "macro_f1": "macro-F1",
    "micro_p": "micro-P", "micro_r": "micro-R", "exact_match": "exact match",
}  # fmt: skip
SHOW_DIGITS = 3


def load_writers() -> Registry:
    """Import every ``writer_*`` module of this package so each registers itself; return WRITERS."""
    from . import __path__ as pkg_path

    for info in pkgutil.iter_modules(pkg_path):
        if info.name.startswith("writer_"):
            importlib.import_module(f"{__package__}.{info.name}")
    return WRITERS


def write_formats(table: Table, out_dir: Path, formats: Sequence[str]) -> list[Path]:
    """Write ``table`` in each format into ``out_dir``; returns the files written, in order."""
    load_writers()
    writers = [WRITERS.get(f) for f in formats]  # unknown names fail before anything is written
    out: list[Path] = []
    for writer in writers:
        out.extend(writer(table, Path(out_dir)))
    return out


def num(x: Any, digits: int = SHOW_DIGITS) -> str:
    """A number with fixed decimals; '–' for missing values."""
    return "–" if x is None else f"{x:.{digits}f}"


def big(x: Any) -> str:
    """A large quantity (tokens, seconds) with thousands separators and no decimals."""
    return "–" if x is None else f"{x:,.0f}"


def money(x: Any) -> str:
    """Dollars with two decimals."""
    return "–" if x is None else f"{x:,.2f}"


def mean_std(row: Mapping[str, Any], metric: str, pm: str = " ± ") -> str:
    """'0.512 ± 0.013' (or just the mean for a single seed)."""
    mean, std = row[f"{metric}_mean"], row[f"{metric}_std"]
    return num(mean) if std is None else f"{num(mean)}{pm}{num(std)}"


def ci_text(row: Mapping[str, Any], metric: str = "micro_f1") -> str:
    """'[0.48, 0.55]' style interval."""
    return f"[{num(row[f'{metric}_ci_lo'])}, {num(row[f'{metric}_ci_hi'])}]"


def system_label(row: Mapping[str, Any]) -> str:
    """Predictor name, with its parameters when it has any."""
    return f"{row['predictor']} ({row['params']})" if row["params"] else row["predictor"]


def train_label(row: Mapping[str, Any]) -> str:
    """Training corpus spec, flagged when it is the baseline."""
    return f"{row['train']} (baseline)" if row["is_baseline"] else row["train"]


def censored(value: Any, flag: str, fmt: str = ",.0f") -> str:
    """'< 100' / '> 1,760' for a censored value, the plain number otherwise; '–' when missing."""
    return "–" if value is None else f"{flag} {value:{fmt}}".strip()


def human_equiv_text(row: Mapping[str, Any]) -> str:
    """'412 [250, 731]': human-equivalent dialogs and their 95% interval, censored bounds with '<' or '>'."""
    if row["human_equiv"] is None:
        return "–"
    lo, hi = censored(row["human_equiv_ci_lo"], row["human_equiv_ci_lo_flag"]), censored(row["human_equiv_ci_hi"], row["human_equiv_ci_hi_flag"])
    return f"{censored(row['human_equiv'], row['human_equiv_flag'])} [{lo}, {hi}]"


def page_section(row: Mapping[str, Any]) -> str:
    """Where a row goes on the HTML page: 'Main comparison' (the main protocol, whole corpora), 'Learning curves'
    (the main protocol, a sampled part: human@N and the size sweeps), 'Ablations' (every other section)."""
    from ..specs import parse_spec

    if row["section"] != MAIN_SECTION:
        return "Ablations"
    return "Learning curves" if any(p.size for p in parse_spec(row["train"]).parts) else "Main comparison"


PAGE_SECTIONS = ("Main comparison", "Learning curves", "Ablations")


def best_rows(table: Table, metric: str) -> set[int]:
    """Indices of the rows with the highest mean of ``metric`` within their test set (ties all count)."""
    best: dict[str, float] = {}
    for row in table.rows:
        v = row[f"{metric}_mean"]
        if v is not None:
            best[row["test"]] = max(best.get(row["test"], v), v)
    return {i for i, r in enumerate(table.rows) if r[f"{metric}_mean"] is not None and r[f"{metric}_mean"] == best[r["test"]]}


#: The human-readable columns: (key, header, cell text). Markdown, LaTeX and HTML show these.
def seeds_text(row: Mapping[str, Any]) -> str:
    """'0,1,2' for three runs; '0=1=2 (1 run)' when seeds gave identical predictions."""
    return row["seeds"] if row["n_runs"] == row["n_seeds"] else f"{row['seeds']} ({row['n_runs']} run{'s' if row['n_runs'] > 1 else ''})"


def p_text(row: Mapping[str, Any]) -> str:
    """'0.153 (0.611)': the paired test's p and its Holm-adjusted value; '–' for a row not tested."""
    if row["p_value"] is None:
        return "–"
    def fmt(p: float) -> str:
        return "<0.001" if p < 0.001 else f"{p:.3f}"

    return f"{fmt(row['p_value'])} ({fmt(row['p_holm'])})"


def tuned_text(row: Mapping[str, Any]) -> str:
    """Where the row's thresholds and early stopping were tuned."""
    return {"human": "human valid", "holdout": "10% of train held out"}.get(row["tuned_on"], row["tuned_on"])


def _mean_std_of(metric: str) -> Callable[[Mapping[str, Any]], str]:
    """The display function of one metric's mean ± std column."""
    return lambda r: mean_std(r, metric)


DISPLAY: list[tuple[str, str, Callable[[Mapping[str, Any]], str]]] = [
    ("section", "Section", lambda r: r["section"]),
    ("test", "Test", lambda r: r["test"]),
    ("training_data", "Training data", lambda r: r["training_data"]),
    ("train", "Train spec", train_label),
    ("predictor", "Predictor", system_label),
    ("tuned_on", "Tuned on", tuned_text),
    ("seeds", "Seeds", seeds_text),
    ("micro_f1", METRIC_NAMES["micro_f1"], lambda r: mean_std(r, "micro_f1")),
    ("micro_f1_ci", "micro-F1 95% CI", ci_text),
    ("p_holm", "p vs baseline (Holm)", p_text),
    ("human_equiv", "Human-equiv. dialogs [95% CI]", human_equiv_text),
    ("human_equiv_per_1m_tokens", "Human-equiv. / 1M all-in tokens",
     lambda r: censored(r["human_equiv_per_1m_tokens"], r["human_equiv_flag"] or "", ",.1f")),
    ("marginal_tokens_per_1k", "Marginal tokens / 1k dialogs", lambda r: big(r["marginal_tokens_per_1k"])),
    ("all_in_tokens_per_1k", "All-in tokens / 1k dialogs", lambda r: big(r["all_in_tokens_per_1k"])),
    *((m, METRIC_NAMES[m], _mean_std_of(m)) for m in METRICS if m != "micro_f1"),
    ("n_synthetic_dialogs", "Synthetic dialogs", lambda r: "–" if r["n_synthetic_dialogs"] is None else f"{r['n_synthetic_dialogs']:,}"),
    ("marginal_seconds_per_1k", "Marginal gen. seconds / 1k", lambda r: big(r["marginal_seconds_per_1k"])),
    ("all_in_seconds_per_1k", "All-in gen. seconds / 1k", lambda r: big(r["all_in_seconds_per_1k"])),
    ("marginal_usd_per_1k", "Marginal $ / 1k dialogs", lambda r: money(r["marginal_usd_per_1k"])),
    ("all_in_usd_per_1k", "All-in $ / 1k dialogs", lambda r: money(r["all_in_usd_per_1k"])),
]
PRICED = ("marginal_usd_per_1k", "all_in_usd_per_1k")
#: Display columns holding text (left-aligned, sorted as text).
TEXT_COLUMNS = ("section", "test", "training_data", "train", "predictor", "tuned_on", "seeds")


def sort_value(row: Mapping[str, Any], key: str) -> Any:
    """The raw value a display column sorts by (a censored value at its bound)."""
    if key in METRICS:
        return row[f"{key}_mean"]
    if key == "micro_f1_ci":
        return row["micro_f1_ci_lo"]
    return row.get(key)


def display_columns(table: Table) -> list[tuple[str, str, Callable[[Mapping[str, Any]], str]]]:
    """DISPLAY without the dollar columns when no price was given."""
    return [c for c in DISPLAY if c[0] not in PRICED or table.meta["prices"]]


def caption(table: Table, better: str = "+", worse: str = "-") -> str:
    """What every number in the table is, in one paragraph (shared by all writers)."""
    m = table.meta
    tests = ", ".join(sorted({r["test"] for r in table.rows}))
    n = m["n_comparisons"]
    family = "; ".join(m["holm_family"]) if m["holm_family"] else "none"
    text = (
        f"Intent prediction on test set {tests}. Seeds: seeds whose test predictions are identical are one run, not "
        f"replicates, and are written joined by '=' (a deterministic predictor's seeds are one run). Each metric is the mean "
        f"± sample standard deviation over the distinct runs (no ± for one run) of the test score (micro-P/R/F1 pooled over "
        f"utterance-label pairs; QU-acc. is the Jaccard accuracy of Qu et al. 2019). "
        f"95% CI: percentile bootstrap over test dialogs ({m['n_resamples']:,} resamples) of the predictions of all distinct runs pooled. "
        f"Tuned on: the validation data that chose the decision threshold (and any early stopping or model selection); "
        f"the main section is tuned on {'the human valid split' if m['valid'] == 'human' else m['valid']} for every row, and each "
        f"ablation section on what it names; the test split chose nothing. "
        f"Significance: two-sided paired randomization test with the test dialog as the unit, against the baseline "
        f"({m['baseline']}) with the same test set, predictor and validation data: the statistic is the difference of the "
        f"mean-over-runs micro-F1, runs are paired by seed (a single run is paired with each run of the other system), and "
        f"one swap exchanges the two systems' predictions of a test dialog in every paired run at once "
        f"({m['n_permutations']:,} random swaps; exact enumeration when there are at most 16 dialogs). "
        f"Holm correction over the family of {n} comparison{'' if n == 1 else 's'} in this table ({family}): "
        f"{better} significantly better, {worse} significantly worse (adjusted p < {m['alpha']:g}); the p column gives the p value and, in brackets, "
        f"its Holm-adjusted value; rows without a baseline tuned the same way, and samples of human train "
        f"(human@N: the human learning curve), are not tested. "
        f"Training data: each part named by what it is, with the dialogs used: human (MSDialog train), or a generated "
        f"corpus as method · generator LLM (a SOLID-RL generator as its base model trained on the corpus it was distilled "
        f"from), from its run folder's manifest; Train spec: the corpus spec as run. "
        f"Human-equiv. dialogs: the number of human training dialogs that reach the row's micro-F1 on the human learning "
        f"curve (rows trained on human@N and all human dialogs with the same test set, predictor and validation data), "
        f"made monotone first (running maximum over N) and interpolated linearly in log N between its points; '< N' and "
        f"'> N' mark a row below the curve's first point or above its last. Its 95% interval: the same bootstrap over test "
        f"dialogs ({m['n_resamples']:,} resamples, the same dialogs for the row and every curve point, runs pooled), "
        f"order statistics, censored resamples kept censored. Human-equiv. / 1M all-in tokens: human-equivalent dialogs "
        f"per million all-in generation tokens spent on the training set's synthetic dialogs; for a mixture the gain, "
        f"human-equivalent dialogs minus the human dialogs it holds. "
        f"Synthetic dialogs: those in the training split (after any validation hold-out). "
        f"Cost of generating the synthetic training dialogs, per 1,000 dialogs, in tokens (prompt + completion) and "
        f"generation seconds: marginal = the dialogs' own generation calls; all-in = the whole run spread over its accepted "
        f"dialogs (self-seeding, instruction merging, retries and rejected plans) plus, for a trained generator (SOLID-RL), "
        f"the all-in cost of its training corpus and its training compute seconds"
    )
    if m["prices"]:
        text += f"; dollars, {m['prices']}"
    return text + ". Best mean per metric and test set in bold."


def mark_text(row: Mapping[str, Any], better: str, worse: str) -> str:
    """The significance mark of a row in a writer's own symbols."""
    return {"+": better, "-": worse}.get(row["mark"], "")
