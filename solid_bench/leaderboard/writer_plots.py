"""Plot files: the leaderboard plots as PNG and as SVG (two formats, one writer file)."""

from __future__ import annotations

from pathlib import Path

from .table import Table
from .writers import WRITERS


def _write(table: Table, out_dir: Path, fmt: str) -> list[Path]:
    from .plots import render_all

    out = []
    for name, data in render_all(table, fmt).items():
        path = Path(out_dir) / f"{name}.{fmt}"
        path.write_bytes(data)
        out.append(path)
    return out


@WRITERS.register("png")
def write_png(table: Table, out_dir: Path) -> list[Path]:
    """Write learning_curve.png, f1_vs_cost.png and per_intent_f1.png."""
    return _write(table, out_dir, "png")


@WRITERS.register("svg")
def write_svg(table: Table, out_dir: Path) -> list[Path]:
    """Write learning_curve.svg, f1_vs_cost.svg and per_intent_f1.svg."""
    return _write(table, out_dir, "svg")
