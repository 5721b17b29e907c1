"""Fixtures for generator tests: a tiny human train corpus (written by the tests) and run helpers."""

from __future__ import annotations

import pytest

from solid_bench.corpora import resolve


@pytest.fixture
def tiny_train(tiny_data):
    """The tiny MSDialog-IntentPred train split of tests/conftest.py (3 dialogs, 12 utterances)."""
    return resolve("human", "train")
