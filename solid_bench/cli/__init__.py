"""The ``solid-bench`` command: a thin Typer layer over library functions.

Each verb group lives in its own module and registers itself on ``app``. Modules here import
only light things at top level, so ``solid-bench --help`` stays fast (a test checks that torch
is not imported).
"""

from __future__ import annotations

import errno
import functools
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


@functools.cache
def _command():
    """The click command typer builds from ``app``, built once per process (building it is most of a call's cost)."""
    _load_commands()
    return typer.main.get_command(app)


#: OS errors that mean "this path cannot be used", not a bug: shown as a sentence if no up-front check caught them.
_PATH_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.ENAMETOOLONG,
                          errno.EISDIR, errno.ENOTDIR})


def _one_line(text: str) -> str:
    """Whitespace (newlines included) collapsed: an error is one line on stderr."""
    return " ".join(str(text).split())


def _usage_error(e) -> str:
    """A command-line usage error as one sentence pointing at the command's --help."""
    ctx = getattr(e, "ctx", None)
    command = ctx.command_path if ctx is not None else "solid-bench"
    return f"{_one_line(e.format_message()).rstrip('.')}; see `{command} --help`."


def main(argv: list[str] | None = None) -> int:
    """Entry point and the one error handler of the CLI.

    A user's mistake (a UserError, or a usage error such as an unknown option or a bad number)
    prints ``error: <one sentence>`` on stderr and returns 2, with no traceback. Usage errors
    come from the click that typer really runs on: typer >= 0.26 vendors it as ``typer._click``
    (pyproject.toml bounds typer for that reason), so the separately installed click's classes
    would never match. Running a group with no command prints its help and returns 0.
    """
    from typer._click import exceptions as click_exceptions

    from ..errors import UserError

    try:
        # With standalone_mode=False the exit code of a typer.Exit is returned, not raised.
        rc = _command().main(args=argv, standalone_mode=False, prog_name="solid-bench")
    except UserError as e:
        typer.echo(f"error: {_one_line(e)}", err=True)
        return 2
    except click_exceptions.NoArgsIsHelpError as e:
        typer.echo(e.format_message())
        return 0
    except click_exceptions.UsageError as e:
        typer.echo(f"error: {_usage_error(e)}", err=True)
        return 2
    except click_exceptions.ClickException as e:
        typer.echo(f"error: {_one_line(e.format_message())}", err=True)
        return 2
    except typer.Exit as e:
        return e.exit_code
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("Interrupted; rerun the same command to resume.", err=True)
        return 130
    except OSError as e:
        if e.errno not in _PATH_ERRNOS:
            raise
        where = f"{e.filename}: " if e.filename else ""
        typer.echo(f"error: {where}{e.strerror} (the system refused a file operation); check the path, its "
                   "permissions and the free space, then rerun the same command.", err=True)
        return 2
    return rc if isinstance(rc, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


def cli_entry() -> None:
    """Console-script wrapper: exit with main()'s status."""
    sys.exit(main())
