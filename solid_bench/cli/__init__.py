"""The ``solid-bench`` command: a thin Typer layer over library functions.

Each verb group lives in its own module and registers itself on ``app``. Modules here import
only light things at top level, so ``solid-bench --help`` stays fast (a test checks that torch
is not imported).
"""

from __future__ import annotations

import importlib
import sys

import typer

app = typer.Typer(
    name="solid-bench",
    help="Benchmark intent prediction in information-seeking dialogs, with SOLID / SOLID-RL synthetic data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)

#: Verb modules, imported by main() so that each registers its commands on ``app``.
COMMAND_MODULES = ("data", "predictors", "models", "run", "generate", "train_generator", "matrix", "leaderboard", "results", "seeds")


def _load_commands() -> None:
    for name in COMMAND_MODULES:
        try:
            importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise


def fail(message: str, code: int = 2) -> "typer.Exit":
    """Print one error sentence to stderr and return an Exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def main(argv: list[str] | None = None) -> int:
    """Entry point: user errors print one sentence and exit 2, with no traceback."""
    import click

    from ..errors import UserError

    _load_commands()
    try:
        # With standalone_mode=False click returns (not raises) the code of a typer.Exit.
        rc = app(args=argv, standalone_mode=False, prog_name="solid-bench")
    except UserError as e:
        typer.echo(f"error: {e}", err=True)
        return 2
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.exceptions.Abort:
        typer.echo("Aborted.", err=True)
        return 130
    except click.ClickException as e:
        e.show()
        return 2
    except KeyboardInterrupt:
        typer.echo("Interrupted; rerun the same command to resume.", err=True)
        return 130
    return rc if isinstance(rc, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


def cli_entry() -> None:
    """Console-script wrapper: exit with main()'s status."""
    sys.exit(main())
