"""JSON leaderboard: the whole table (rows, per-label rows, caption and provenance) in one file."""

from __future__ import annotations

import json
from pathlib import Path

from .table import Table
from .writers import STEM, WRITERS, caption


def as_dict(table: Table) -> dict:
    """The table as plain JSON-ready data."""
    return {
        "columns": list(table.columns),
        "rows": [dict(r) for r in table.rows],
        "per_label": [dict(r) for r in table.per_label],
        "caption": caption(table),
        "meta": table.meta,
    }


@WRITERS.register("json")
def write_json(table: Table, out_dir: Path) -> list[Path]:
    """Write leaderboard.json (sorted keys, stable formatting)."""
    path = Path(out_dir) / f"{STEM}.json"
    path.write_text(json.dumps(as_dict(table), indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return [path]
