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
from .table import METRICS, Table

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


def best_rows(table: Table, metric: str) -> set[int]:
    """Indices of the rows with the highest mean of ``metric`` within their test set (ties all count)."""
    best: dict[str, float] = {}
    for row in table.rows:
        v = row[f"{metric}_mean"]
        if v is not None:
            best[row["test"]] = max(best.get(row["test"], v), v)
    return {i for i, r in enumerate(table.rows) if r[f"{metric}_mean"] is not None and r[f"{metric}_mean"] == best[r["test"]]}


#: The human-readable columns: (key, header, cell text). Markdown, LaTeX and HTML show these.
DISPLAY: list[tuple[str, str, Callable[[Mapping[str, Any]], str]]] = [
    ("test", "Test", lambda r: r["test"]),
    ("train", "Train", train_label),
    ("predictor", "Predictor", system_label),
    ("n_seeds", "Seeds", lambda r: str(r["n_seeds"])),
    ("micro_f1", METRIC_NAMES["micro_f1"], lambda r: mean_std(r, "micro_f1")),
    ("micro_f1_ci", "micro-F1 95% CI", ci_text),
    *((m, METRIC_NAMES[m], (lambda m: lambda r: mean_std(r, m))(m)) for m in METRICS if m != "micro_f1"),
    ("n_synthetic_dialogs", "Synthetic dialogs", lambda r: "–" if r["n_synthetic_dialogs"] is None else f"{r['n_synthetic_dialogs']:,}"),
    ("tokens_per_1k", "Tokens / 1k dialogs", lambda r: big(r["tokens_per_1k"])),
    ("seconds_per_1k", "Gen. seconds / 1k dialogs", lambda r: big(r["seconds_per_1k"])),
    ("usd_per_1k", "$ / 1k dialogs", lambda r: money(r["usd_per_1k"])),
]


def sort_value(row: Mapping[str, Any], key: str) -> Any:
    """The raw value a display column sorts by."""
    if key in METRICS:
        return row[f"{key}_mean"]
    if key == "micro_f1_ci":
        return row["micro_f1_ci_lo"]
    return row.get(key)


def display_columns(table: Table) -> list[tuple[str, str, Callable[[Mapping[str, Any]], str]]]:
    """DISPLAY without the dollar column when no price was given."""
    return [c for c in DISPLAY if c[0] != "usd_per_1k" or table.meta["prices"]]


def caption(table: Table, better: str = "+", worse: str = "-") -> str:
    """What every number in the table is, in one paragraph (shared by all writers)."""
    m = table.meta
    seeds = "/".join(str(n) for n in m["n_seeds"])
    tests = ", ".join(sorted({r["test"] for r in table.rows}))
    text = (
        f"Intent prediction on test set {tests}. Each metric is the mean ± sample standard deviation over N = {seeds} seeds "
        f"of the per-seed test score (micro-P/R/F1 pooled over utterance-label pairs; QU-acc. is the Jaccard accuracy of Qu et al. 2019). "
        f"95% CI: percentile bootstrap over test dialogs ({m['n_resamples']:,} resamples) of the predictions of all seeds pooled. "
        f"Significance: two-sided paired randomization test on micro-F1 ({m['n_permutations']:,} random swaps of whole test dialogs, "
        f"exact when at most 16 units; predictions of the seeds both systems share, matched by dialog and position) against the "
        f"baseline ({m['baseline']}) with the same test set and predictor, Holm-corrected over the {m['n_comparisons']} "
        f"comparison{'' if m['n_comparisons'] == 1 else 's'} in this table: {better} significantly better, {worse} significantly worse (adjusted p < {m['alpha']:g}). "
        f"Synthetic dialogs: those in the training split (after any validation hold-out). "
        f"Cost: generating the synthetic training dialogs, per 1,000 dialogs: tokens (prompt + completion) and generation seconds, "
        f"all-in where the run's manifest is present (seeding, instruction merging, retries and rejected plans spread over the accepted dialogs)"
    )
    if m["prices"]:
        text += f"; dollars, {m['prices']}"
    return text + ". Best mean per metric and test set in bold."


def mark_text(row: Mapping[str, Any], better: str, worse: str) -> str:
    """The significance mark of a row in a writer's own symbols."""
    return {"+": better, "-": worse}.get(row["mark"], "")
