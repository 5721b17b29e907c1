"""solid_bench.hyperparams: parameters checked against __init__ names and annotated types, before any work."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest

from solid_bench.errors import UserError
from solid_bench.hyperparams import accepts, check_params, type_name
from solid_bench.predictors import create


class Toy:
    def __init__(self, C: float | None = None, n: int = 2, flag: bool = True, how: Literal["a", "b"] = "a",
                 names: list[str] | None = None, path: Path | None = None, free=None):
        self.C = C


@pytest.mark.parametrize("tp,value,ok", [
    (float, 1, True), (float, 1.5, True), (float, True, False), (float, "1", False),
    (int, 2, True), (int, 2.0, False), (int, False, False),
    (bool, True, True), (bool, 1, False),
    (float | None, None, True), (Literal["a", "b"], "b", True), (Literal["a", "b"], "c", False),
    (list[str], ["x"], True), (list[str], ["x", 1], False), (list[str], "x", False),
    (Path, "p/q", True), (Path, 3, False),
])
def test_accepts(tp, value, ok):
    assert accepts(tp, value) is ok


def test_problems_name_the_parameter_and_the_expected_type():
    assert check_params(Toy, {"C": 0.5, "n": 3, "flag": False, "how": "b", "names": ["x"], "path": "p", "free": object()}, "toy") == []
    assert check_params(Toy, {"C": "abc", "n": 1.5, "how": "c", "nn": 1}, "predictor 'toy'") == [
        "predictor 'toy' parameter 'C' must be float or None, not 'abc' (str).",
        "predictor 'toy' parameter 'n' must be int, not 1.5 (float).",
        "predictor 'toy' parameter 'how' must be 'a' or 'b', not 'c' (str).",
        "predictor 'toy' has no parameter 'nn'. Did you mean: n? Its parameters: C, n, flag, how, names, path, free.",
    ]
    assert type_name(list[str] | None) == "list or None"


def test_create_checks_before_instantiating():
    with pytest.raises(UserError) as e:
        create("tfidf-lr", C="abc")
    assert str(e.value) == "Predictor 'tfidf-lr' parameter 'C' must be float or None, not 'abc' (str)."
    with pytest.raises(UserError) as e:
        create("tfidf-lr", class_weight="heavy")
    assert str(e.value) == "Predictor 'tfidf-lr' parameter 'class_weight' must be 'search', 'balanced' or None, not 'heavy' (str)."
    assert create("tfidf-lr", C=2, class_weight=None).C == 2
