"""An outside package joins the predictor registry through the `solid_bench.predictors` entry points."""

from __future__ import annotations

import importlib

from solid_bench.predictors._check import N_CHECKS, check_predictor
from solid_bench.registry import Registry

MODULE = '''
import numpy as np
from solid_bench.predictors import BasePredictor

class OutsidePredictor(BasePredictor):
    """Predicts 0.25 for every label."""

    description = "an outside constant predictor"
    model_id = "constant"

    def __init__(self, value=0.25):
        self.value = value

    def fit(self, train, valid, labels, seed=0):
        self.k_ = len(labels)
        return self

    def predict_proba(self, examples):
        return np.full((len(examples), self.k_), self.value)
'''


def test_entry_point_predictor_is_found_by_name_and_passes_the_battery(tmp_path, monkeypatch):
    (tmp_path / "outside_intents.py").write_text(MODULE, encoding="utf-8")
    dist = tmp_path / "outside_intents-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: outside-intents\nVersion: 0.1\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text(
        "[solid_bench.predictors]\noutside-const = outside_intents:OutsidePredictor\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()

    registry = Registry("predictor", entry_point_group="solid_bench.predictors")  # fresh: global state untouched
    assert "outside-const" in registry.names()
    cls = registry.get("outside-const")
    assert cls.__name__ == "OutsidePredictor" and cls.registered_name == "outside-const"
    assert check_predictor(cls) == N_CHECKS
    monkeypatch.delitem(__import__("sys").modules, "outside_intents", raising=False)
