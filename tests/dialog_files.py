"""Tiny dialog files the tests write themselves (never MSDialog data), and the skip marker for the few
tests that read the real split. A plain module, not conftest.py: ``tests/generators/conftest.py``
shares that module name, so ``from conftest import ...`` depends on which folder pytest collects first."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REAL_DATA = Path(os.environ.get("SOLID_BENCH_DATA", "")) / "msdialog-intentpred"


def needs_real_data():
    """Skip marker for the few tests that read the real MSDialog-IntentPred split."""
    return pytest.mark.skipif(not (REAL_DATA / "train.tsv").is_file(), reason="SOLID_BENCH_DATA not set to the human data")


TINY_TSV = {
    "train": [
        [("OQ", "how do i reset my outlook password \\? __eou__", "User"),
         ("PA", "go to settings and choose reset __eou__", "Agent"),
         ("PF", "that worked , thanks __eou__", "User")],
        [("OQ", "excel crashes when i open a file __eou__", "User"),
         ("IR_PA", "which version do you use \\? try safe mode __eou__", "Agent"),
         ("FD_NF", "version 2016 , safe mode did not help __eou__", "User"),
         ("PA", "repair office from control panel __eou__", "Agent")],
        [("OQ", "my skype does not ring __eou__", "User"),
         ("CQ", "is it muted \\? __eou__", "Agent"),
         ("FD", "no it is not muted __eou__", "User"),
         ("PA", "update the app __eou__", "Agent"),
         ("GG", "thank you __eou__", "User")],
    ],
}


def write_tsv(path: Path, dialogs) -> Path:
    """Write dialogs [[(labels, text, actor), ...], ...] in MSDialog-IntentPred TSV form."""
    path.parent.mkdir(parents=True, exist_ok=True)
    blocks = ["\n".join("\t".join(u) for u in d) for d in dialogs]
    path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    return path
