"""Results folder -> leaderboard files, written atomically (a temp folder, then renamed into place)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..errors import UserError
from .table import Options, Table, build_table

DEFAULT_FORMATS = ("md", "csv", "tex", "json", "html", "png", "svg")


def parse_formats(text: str) -> list[str]:
    """'md,csv' -> ['md', 'csv'], checked against the registered writers (with suggestions)."""
    from .writers import load_writers

    names = [f.strip().lower().lstrip(".") for f in text.split(",") if f.strip()]
    if not names:
        raise UserError("--formats is empty; give a comma-separated list such as md,csv,html.")
    writers = load_writers()
    for name in names:
        writers.get(name)
    return list(dict.fromkeys(names))


def load_table(results_dir: Path, options: Options = Options(), on_bad: str = "stop", warn=lambda s: None) -> Table:
    """Load every Result JSON under ``results_dir`` (gold labels rebuilt where left out) and aggregate them.

    A damaged or foreign Result file stops the build naming it (``on_bad="stop"``) or is left out
    with a warning through ``warn`` (``"skip"``).
    """
    from ..gold import rehydrate_gold
    from ..results import load_results

    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise UserError(f"Results folder {str(results_dir)!r} does not exist; pass the folder given to `solid-bench run --out`.")
    results = load_results(results_dir, on_bad, warn)
    if not results:
        raise UserError(f"No result files (*.json) under {str(results_dir)!r}; run `solid-bench run` or `solid-bench matrix` first.")
    return build_table(rehydrate_gold(results), options, anchor=results_dir)


def check_out_dir(results_dir: Path, out_dir: Path) -> None:
    """Refuse an output folder inside the results folder (its JSON would be read as results next time)."""
    if Path(out_dir).resolve().is_relative_to(Path(results_dir).resolve()):
        raise UserError(f"--out {str(out_dir)!r} is inside the results folder; write the leaderboard to a folder beside it.")


def write_leaderboard(table: Table, out_dir: Path, formats: Sequence[str] = DEFAULT_FORMATS) -> list[Path]:
    """Write every format into a temp folder beside ``out_dir``, then move the files in: never a half-written leaderboard."""
    from ..outputs import move_into, staging_folder
    from .writers import write_formats

    out_dir = Path(out_dir)
    with staging_folder(out_dir) as tmp:
        return move_into(tmp, write_formats(table, tmp, formats), out_dir)
