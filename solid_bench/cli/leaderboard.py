"""`solid-bench leaderboard RESULTS_DIR --out DIR`: tables, plots and an HTML page from Result files."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from . import app


@app.command("leaderboard")
def leaderboard(
    results_dir: Path = typer.Argument(..., help="Folder with Result JSON files (searched recursively)."),
    out: Path = typer.Option(..., "--out", help="Folder to write the leaderboard files into."),
    formats: str = typer.Option("md,csv,tex,json,html,png,svg", "--formats", help="Comma-separated output formats."),
    price_per_gpu_hour: Optional[float] = typer.Option(None, "--price-per-gpu-hour", min=0, help="Dollars per GPU hour of generation."),
    price_per_1k_prompt_tokens: Optional[float] = typer.Option(None, "--price-per-1k-prompt-tokens", min=0, help="Dollars per 1,000 prompt tokens."),
    price_per_1k_completion_tokens: Optional[float] = typer.Option(
        None, "--price-per-1k-completion-tokens", min=0, help="Dollars per 1,000 completion tokens."
    ),
    baseline: str = typer.Option("human", "--baseline", help="Train spec of the baseline rows ('auto': any human-only corpus)."),
    n_resamples: int = typer.Option(1000, "--bootstrap", min=1, help="Bootstrap resamples for the confidence intervals."),
    n_permutations: int = typer.Option(10000, "--permutations", min=1, help="Random swaps for the significance test."),
    on_bad_result: str = typer.Option(
        "stop", "--on-bad-result",
        help="A damaged or foreign Result file: 'stop' (default) names it and writes nothing; 'skip' leaves it out with a warning.",
    ),
) -> None:
    """Aggregate results over seeds into a leaderboard (Markdown, CSV, LaTeX, JSON, HTML, PNG/SVG plots)."""
    from ..leaderboard.build import check_out_dir, load_table, parse_formats, write_leaderboard
    from ..leaderboard.cost import Prices
    from ..leaderboard.table import Options
    from ..outputs import check_output_folder

    fmts = parse_formats(formats)
    check_out_dir(results_dir, out)
    check_output_folder(out)
    prices = Prices(price_per_gpu_hour, price_per_1k_prompt_tokens, price_per_1k_completion_tokens)
    options = Options(
        baseline=None if baseline == "auto" else baseline, prices=prices, n_resamples=n_resamples, n_permutations=n_permutations
    )
    table = load_table(results_dir, options, on_bad_result, warn=lambda s: typer.echo(s, err=True))
    for path in write_leaderboard(table, out, fmts):
        typer.echo(str(path))
