"""`solid-bench predictors list`: the registered predictors with one line each."""

from __future__ import annotations

import typer

from . import app

predictors_app = typer.Typer(help="List the intent predictors.", no_args_is_help=True)
app.add_typer(predictors_app, name="predictors")


@predictors_app.command("list")
def list_predictors() -> None:
    """Show each registered predictor with its one-line description."""
    from ..predictors import PREDICTORS

    width = max((len(n) for n in PREDICTORS.names()), default=0)
    for name, cls in PREDICTORS.items():
        typer.echo(f"{name:<{width}}  {cls.description}")
