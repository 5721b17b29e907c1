"""`solid-bench results`: maintain Result files (strip the test gold labels so they can be shared)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from . import app

results_app = typer.Typer(help="Maintain Result files: strip the test gold labels so they can be shared; upgrade old ones.",
                          no_args_is_help=True)
app.add_typer(results_app, name="results")


@results_app.command("strip-gold")
def strip_gold(
    results_dir: Path = typer.Argument(..., help="Folder with Result JSON files (searched recursively)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the stripped files here (same relative paths); default: in place."),
) -> None:
    """Rewrite Results without the test gold labels (y_true), recording the test corpus and its sha256 instead.

    `solid-bench leaderboard` rebuilds the labels from the test data (SOLID_BENCH_DATA); running this twice changes nothing.
    """
    from ..gold import strip_gold_files
    from ..outputs import check_output_folder

    check_output_folder(out if out is not None else results_dir)
    counts = strip_gold_files(results_dir, out, log=lambda s: typer.echo(s, err=True))
    typer.echo(f"{counts['stripped']} stripped, {counts['already']} already without gold labels; in {out or results_dir}")


@results_app.command("upgrade")
def upgrade(
    results_dir: Path = typer.Argument(..., help="Folder with Result JSON files (searched recursively), upgraded in place."),
) -> None:
    """Bring schema-1 Results to schema 2: explicit validation choice, marginal and all-in cost, portable paths.

    The training corpora must be where the Results say (their sha256 is checked); nothing is written unless every file upgrades.
    """
    from ..upgrade import upgrade_files

    counts = upgrade_files(results_dir, log=lambda s: typer.echo(s, err=True))
    typer.echo(f"{counts['upgraded']} upgraded, {counts['unchanged']} already current; in {results_dir}")
