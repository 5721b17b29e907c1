"""Markdown leaderboard: the display columns, caption, provenance footer and BibTeX."""

from __future__ import annotations

from pathlib import Path

from .provenance import footer_lines
from .table import METRICS, Table
from .writers import STEM, TEXT_COLUMNS, WRITERS, best_rows, caption, display_columns, mark_text

BETTER, WORSE = "▲", "▼"


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def render(table: Table) -> str:
    """The Markdown page as text."""
    cols = display_columns(table)
    best = {m: best_rows(table, m) for m in METRICS}
    lines = ["# solid-bench leaderboard", "", "| " + " | ".join(h for _, h, _ in cols) + " |"]
    lines.append("|" + "|".join("---" if k in TEXT_COLUMNS else "---:" for k, _, _ in cols) + "|")
    for i, row in enumerate(table.rows):
        cells = []
        for key, _, fn in cols:
            text = _escape(fn(row))
            if key in best and i in best[key]:
                text = f"**{text}**"
            if key == table.meta["test_metric"]:
                text += mark_text(row, BETTER, WORSE)
            cells.append(text)
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", caption(table, BETTER, WORSE), "", "---", ""]
    lines += [f"{line}  " for line in footer_lines(table.meta["provenance"])]
    lines += ["", "```bibtex", *"\n\n".join(table.meta["provenance"]["bibtex"]).split("\n"), "```", ""]
    return "\n".join(lines)


@WRITERS.register("md")
def write_markdown(table: Table, out_dir: Path) -> list[Path]:
    """Write leaderboard.md."""
    path = Path(out_dir) / f"{STEM}.md"
    path.write_text(render(table), encoding="utf-8")
    return [path]
