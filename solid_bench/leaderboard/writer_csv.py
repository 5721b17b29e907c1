"""CSV leaderboard: every column of the tidy table, plus the long per-label F1 table."""

from __future__ import annotations

import csv
from pathlib import Path

from .table import Table
from .writers import STEM, WRITERS


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _write(path: Path, columns: list[str], rows) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(columns)
        for row in rows:
            w.writerow([_cell(row[c]) for c in columns])


@WRITERS.register("csv")
def write_csv(table: Table, out_dir: Path) -> list[Path]:
    """Write leaderboard.csv (one row per system) and leaderboard_per_label.csv (one row per system and intent)."""
    main = Path(out_dir) / f"{STEM}.csv"
    per_label = Path(out_dir) / f"{STEM}_per_label.csv"
    _write(main, list(table.columns), table.rows)
    _write(per_label, ["test", "predictor", "params_hash", "train", "label", "f1_mean", "f1_std", "support"], table.per_label)
    return [main, per_label]
