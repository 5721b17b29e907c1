"""solid-bench's intent metrics as a Hugging Face ``evaluate`` metric module, loadable offline.

``evaluate.load("f1")`` fetches its script from the Hub; a local script loads with no network:
``evaluate.load(solid_bench.evaluate.PATH)``. The script (``intent_metrics.py`` beside this file)
scores with ``solid_bench.metrics.score``, so its numbers are the leaderboard's. This package does
not import ``evaluate`` (an optional extra: ``pip install 'solid-bench[evaluate]'``).
"""

from __future__ import annotations

from pathlib import Path

#: Path of the metric script, for ``evaluate.load(PATH)``.
PATH = str(Path(__file__).resolve().with_name("intent_metrics.py"))


def path() -> str:
    """The metric script's path (the same as ``PATH``)."""
    return PATH
