"""Shared fixtures: tiny dialog files written by the tests themselves (never MSDialog data)."""

from __future__ import annotations

from pathlib import Path

import pytest
from dialog_files import TINY_TSV, write_tsv


@pytest.fixture
def tiny_data(tmp_path, monkeypatch) -> Path:
    """A SOLID_BENCH_DATA folder with a tiny MSDialog-IntentPred split (train = valid = test shapes)."""
    root = tmp_path / "data"
    for split in ("train", "valid", "test"):
        write_tsv(root / "msdialog-intentpred" / f"{split}.tsv", TINY_TSV["train"])
    monkeypatch.setenv("SOLID_BENCH_DATA", str(root))
    monkeypatch.setenv("SOLID_BENCH_HOME", str(tmp_path / "home"))
    return root
