"""`solid-bench run`: train, tune on validation, test, score, write Result JSONs, print a table."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from . import app
from .options import parse_key_values


def print_results_table(results: list[dict]) -> None:
    """Print one row per Result: corpora, predictor, seed and the headline metrics with CI."""
    from rich.console import Console
    from rich.table import Table

    from ..runner import cell_summary

    table = Table(title="solid-bench results (test split; micro-F1 with 95% dialog-bootstrap CI)")
    for col in ("train", "test", "predictor", "seed", "micro-F1 [95% CI]", "qu_accuracy", "macro-F1", "exact match", "train s"):
        table.add_column(col, justify="right" if col not in ("train", "test", "predictor") else "left")
    for r in results:
        s = cell_summary(r)
        ci = s["micro_f1_ci"]
        ci_txt = f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""
        table.add_row(
            s["train"], s["test"], s["predictor"], str(s["seed"]), f"{s['micro_f1']:.3f}{ci_txt}",
            f"{s['qu_accuracy']:.3f}", f"{s['macro_f1']:.3f}", f"{s['exact_match']:.3f}", f"{s['train_seconds']:.1f}",
        )
    console = Console()
    Console(width=max(console.width, 150)).print(table)


@app.command("run")
def run(
    train: str = typer.Option("human", "--train", help="Training corpus spec: human, solid, solid-rl, human+solid, solid@500, a file or run folder."),
    test: str = typer.Option("human", "--test", help="Test corpus spec (its test split)."),
    valid: Optional[str] = typer.Option(
        None, "--valid",
        help="Tuning data: human (the human valid split, for every training set), holdout (10% of the training dialogs) "
        "or a corpus spec; default: the test corpus's valid split when it has one (human for --test human), else holdout.",
    ),
    predictor: str = typer.Option("tfidf-lr", "--predictor", "-p", help="Predictor name (see `solid-bench predictors list`)."),
    seed: Optional[List[int]] = typer.Option(None, "--seed", help="Seed; repeat for several (default 0)."),
    param: Optional[List[str]] = typer.Option(None, "--param", help="Predictor hyperparameter NAME=VALUE; repeatable."),
    out: Path = typer.Option(Path("results"), "--out", help="Folder for Result JSON files."),
    force: bool = typer.Option(False, "--force", help="Recompute cells whose results exist."),
    store_gold: bool = typer.Option(
        True, "--store-gold/--no-store-gold",
        help="Keep the test gold labels (y_true) in the Result files; --no-store-gold records the test corpus instead, "
        "so the files can be shared (`solid-bench leaderboard` rebuilds the labels from the test data).",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only print the table."),
) -> None:
    """Train on TRAIN, tune thresholds on validation data, score on TEST; one Result JSON per seed."""
    from ..outputs import check_output_folder
    from ..runner import Cell, check_valid, default_valid, run_cell

    check_output_folder(out)
    valid = default_valid(test) if valid is None else valid
    check_valid(valid)
    params = parse_key_values(param, "--param", "epochs=2")
    seeds = seed or [0]
    log = (lambda s: None) if quiet else (lambda s: typer.echo(s, err=True))
    results = [run_cell(Cell(train, test, predictor, s, valid, params), out, force=force, log=log, store_gold=store_gold) for s in seeds]
    print_results_table(results)
