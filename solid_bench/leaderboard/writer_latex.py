"""LaTeX leaderboard: a booktabs table with the best value per column in bold and a full caption."""

from __future__ import annotations

from pathlib import Path

from .provenance import footer_lines
from .table import METRICS, Table
from .writers import STEM, TEXT_COLUMNS, WRITERS, best_rows, caption, display_columns, mark_text

BETTER, WORSE = r"$^{\uparrow}$", r"$^{\downarrow}$"
_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
            "<": r"\textless{}", ">": r"\textgreater{}", "·": r"\textperiodcentered{}"}  # fmt: skip


def escape(text: str) -> str:
    """Escape LaTeX special characters; ± and en dashes become math/text commands."""
    out = "".join(_SPECIAL.get(ch, ch) for ch in text)
    return out.replace("±", r"$\pm$").replace("–", "--")


def render(table: Table) -> str:
    """The LaTeX table environment as text (needs \\usepackage{booktabs})."""
    cols = display_columns(table)
    best = {m: best_rows(table, m) for m in METRICS}
    align = "".join("l" if k in TEXT_COLUMNS else "r" for k, _, _ in cols)
    lines = [
        "% Requires \\usepackage{booktabs}.",
        "\\begin{table*}[t]",
        "\\centering",
        "\\small",
        f"\\begin{{tabular}}{{{align}}}",
        "\\toprule",
        " & ".join(escape(h) for _, h, _ in cols) + " \\\\",
        "\\midrule",
    ]
    for i, row in enumerate(table.rows):
        cells = []
        for key, _, fn in cols:
            text = escape(fn(row))
            if key in best and i in best[key]:
                text = f"\\textbf{{{text}}}"
            if key == table.meta["test_metric"]:
                text += mark_text(row, BETTER, WORSE)
            cells.append(text)
        lines.append(" & ".join(cells) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}"]
    cap = escape(caption(table, "UPMARK", "DOWNMARK")).replace("UPMARK", BETTER).replace("DOWNMARK", WORSE)
    lines.append(f"\\caption{{{cap}}}")
    lines += ["\\label{tab:solid-bench-leaderboard}", "\\end{table*}", ""]
    lines += [f"% {line}" for line in footer_lines(table.meta["provenance"])]
    lines += [f"% {line}" for line in "\n\n".join(table.meta["provenance"]["bibtex"]).split("\n")]
    return "\n".join(lines) + "\n"


@WRITERS.register("tex")
def write_latex(table: Table, out_dir: Path) -> list[Path]:
    """Write leaderboard.tex."""
    path = Path(out_dir) / f"{STEM}.tex"
    path.write_text(render(table), encoding="utf-8")
    return [path]
