"""Leaderboard test fixtures: a results folder of synthetic Result files."""

from __future__ import annotations

from pathlib import Path

import pytest
from leaderboard_fixtures import write_results


@pytest.fixture
def results_dir(tmp_path) -> Path:
    """A results folder with five training corpora x three seeds, 20 test utterances each."""
    return write_results(tmp_path / "results")
