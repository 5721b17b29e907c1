"""Every registered predictor passes the conformance battery, with every check run."""

from __future__ import annotations

import pytest

from solid_bench.predictors import PREDICTORS
from solid_bench.predictors._check import N_CHECKS, check_predictor


@pytest.mark.parametrize("name", PREDICTORS.names())
def test_registered_predictor_passes_check_predictor(name):
    assert check_predictor(PREDICTORS.get(name)) == N_CHECKS


def test_the_built_in_predictors_are_registered():
    assert {"majority", "tfidf-lr", "bert"} <= set(PREDICTORS.names())
