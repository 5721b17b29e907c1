"""User-facing errors: one sentence saying what is wrong and how to fix it (CLI exits 2)."""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix (bad input, missing data, unknown name).

    The CLI prints ``str(error)`` as one line and exits with status 2, with no traceback.
    """


def did_you_mean(name: str, choices: list[str] | tuple[str, ...], n: int = 3) -> str:
    """Return ' Did you mean: a, b?' for close matches of ``name`` in ``choices``, or ''."""
    import difflib

    close = difflib.get_close_matches(name, list(choices), n=n, cutoff=0.5)
    return f" Did you mean: {', '.join(close)}?" if close else ""
