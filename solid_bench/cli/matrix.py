"""`solid-bench matrix CONFIG.toml`: run a validated train x test x predictor x seed matrix."""

from __future__ import annotations

from pathlib import Path

import typer

from . import app


@app.command("matrix")
def matrix(
    config: Path = typer.Argument(..., help="Matrix config (TOML); see leaderboards/configs/msdialog.toml."),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Independent cells to run in parallel processes."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate the config and list the cells, run nothing."),
) -> None:
    """Run every cell of the matrix; finished cells are skipped, so an interrupted matrix resumes, and a cell whose
    corpus has changed since its Result was made runs again."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..matrix import cell_status, load_matrix, run_matrix
    from ..outputs import check_output_folder

    m = load_matrix(config)
    check_output_folder(m.out, f"out (in {config})")
    typer.echo(f"{m.name}: {len(m.cells)} cells -> {m.out}", err=True)
    if dry_run:
        for c, status in cell_status(m):  # stale: its Result was made from a corpus that has changed since
            typer.echo(f"{status}\t{c.train}\t{c.test}\t{c.predictor}\tseed={c.seed}\t{c.params or ''}")
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=False) as bar:
        task = bar.add_task("cells", total=len(m.cells))

        def on_cell(cell, status):
            bar.console.print(f"{status:>7}  {cell.train} -> {cell.test}  {cell.predictor}  seed {cell.seed}")
            bar.advance(task)

        counts = run_matrix(m, jobs=jobs, on_cell=on_cell)
    rerun = f", {counts['rerun']} run again because a corpus they used has changed" if counts["rerun"] else ""
    typer.echo(f"done: {counts['done']} run{rerun}, {counts['skipped']} already finished; results in {m.out}", err=True)
